/**
 * The doctor without a running hub (`fleetbench doctor` when nothing answers): the checks that
 * need no hub (LAN address, the ports free for it, the data dir writable, the certificate files,
 * the clock), the rest skipped, and first of all the failure that the hub is not running, with
 * the command that starts it.
 */
import { createServer } from 'node:net';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DoctorCheck, DoctorReport } from '../../shared/lan';
import { DEFAULT_PORT } from '../config';
import { checkClock, checkLanAddress, fixText, type ClockFacts } from './doctor-checks';
import { tlsFacts } from './doctor-probes';
import { lanAddresses, type InterfaceReader } from '../hub-urls';

/** Binds and closes a TCP port: free, or the error code (EADDRINUSE, EACCES). */
export function portFree(port: number, host = '0.0.0.0'): Promise<true | string> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

const check = (
  id: string,
  title: string,
  state: DoctorCheck['state'],
  detail: string,
  fix?: string,
): DoctorCheck => ({ id, title, state, detail, ...(fix !== undefined && { fix }) });

export function portFreeCheck(
  id: string,
  title: string,
  port: number,
  result: true | string,
  flag: string,
): DoctorCheck {
  if (result === true) return check(id, title, 'ok', `port ${port} is free for the hub`);
  if (result === 'EADDRINUSE') {
    return check(
      id,
      title,
      'fail',
      `port ${port} is taken by another program`,
      fixText(
        'See which (Linux, macOS), then stop it, or start the hub on another port:',
        `sudo ss -ltnp 'sport = :${port}'`,
        `lsof -iTCP:${port} -sTCP:LISTEN`,
        `fleetbench serve ${flag} <port>`,
      ),
    );
  }
  return check(
    id,
    title,
    'fail',
    `cannot listen on port ${port}: ${result}`,
    fixText('Start the hub on a port above 1023:', `fleetbench serve ${flag} <port>`),
  );
}

/** Writable: creates and removes a scratch dir there (or in the parent, before the first start). */
export function dataDirCheck(dataDir: string): DoctorCheck {
  const title = 'Data dir';
  const target = existsSync(dataDir) ? dataDir : dirname(dataDir);
  try {
    accessSync(target, constants.W_OK);
    rmSync(mkdtempSync(join(target, '.doctor-')), { recursive: true, force: true });
  } catch (err) {
    return check(
      'data-dir',
      title,
      'fail',
      `${target} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      fixText(
        'Give your user the dir, or pick another:',
        `sudo chown -R "$USER" ${target}`,
        'fleetbench serve --data-dir <dir>',
      ),
    );
  }
  return check(
    'data-dir',
    title,
    'ok',
    existsSync(dataDir) ? `${dataDir} is writable` : `${dataDir} will be made at the first start`,
  );
}

export interface LocalDoctorOptions {
  hubUrl: string;
  /** Why the hub did not answer (ECONNREFUSED...). */
  hubError: string;
  dataDir: string;
  httpPort: number;
  tlsPort: number | null;
  clock: ClockFacts;
  /** The interface list; os.networkInterfaces unless a test injects one. */
  readInterfaces?: InterfaceReader;
}

export async function runLocalDoctor(o: LocalDoctorOptions): Promise<DoctorReport> {
  const addresses = lanAddresses(o.readInterfaces);
  const [http, tls] = await Promise.all([
    portFree(o.httpPort),
    o.tlsPort !== null ? portFree(o.tlsPort) : Promise.resolve(null),
  ]);
  const notRunning = 'the hub is not running';
  const cert = tlsFacts(o.dataDir, addresses, { on: o.tlsPort !== null });
  let certCheck: DoctorCheck;
  if (cert.kind === 'off') certCheck = check('tls-cert', 'TLS certificate', 'skip', 'TLS is off');
  else if (cert.kind === 'missing')
    certCheck = check(
      'tls-cert',
      'TLS certificate',
      'skip',
      `no certificate in ${cert.dir} yet: the hub makes one at its first start`,
    );
  else if (cert.kind === 'generated' && !cert.covers)
    // Not a failure while stopped: the hub re-makes it for the current addresses when it starts.
    certCheck = check(
      'tls-cert',
      'TLS certificate',
      'warn',
      `the server certificate does not cover: ${cert.missing.join(', ') || `expires ${cert.validTo}`}`,
      'the hub makes a new one (same local CA) when it starts',
    );
  else certCheck = check('tls-cert', 'TLS certificate', 'ok', "covers this machine's addresses");
  const checks: DoctorCheck[] = [
    check(
      'hub',
      'Hub running',
      'fail',
      `no hub answers at ${o.hubUrl} (${o.hubError})`,
      fixText(
        'Start it (add --lan-services for time and names on an offline LAN), or point at a hub elsewhere:',
        `fleetbench serve --data-dir ${o.dataDir}${o.httpPort !== DEFAULT_PORT ? ` --port ${o.httpPort}` : ''}`,
        'fleetbench doctor --hub http://<host>:<port>',
      ),
    ),
    checkLanAddress({ addresses, lanAddress: null }),
    portFreeCheck('http-port', `HTTP port ${o.httpPort}`, o.httpPort, http, '--port'),
    tls === null || o.tlsPort === null
      ? check('tls-port', 'TLS port', 'skip', 'TLS is off')
      : portFreeCheck('tls-port', `TLS port ${o.tlsPort}`, o.tlsPort, tls, '--tls-port'),
    dataDirCheck(o.dataDir),
    check('sntp', 'SNTP (time for devices)', 'skip', notRunning),
    check('dns', 'DNS (names for devices)', 'skip', notRunning),
    certCheck,
    checkClock({ clock: o.clock }),
    check('mdns', 'mDNS (discovery)', 'skip', notRunning),
  ];
  return { checked_at: Math.floor(o.clock.nowMs / 1000), checks };
}
