/**
 * `fleetbench serve`: the headless hub (also what `npm start` runs where Electron cannot).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHub } from '../hub';
import {
  DEFAULT_PORT,
  DEFAULT_TLS_PORT,
  SERVE_HEAP_GROWING_PERCENT,
  type LanSettings,
} from '../config';
import { lanStatusLines } from '../lan/lan-services';
import { heapGrowingChosen, tuneHeapGrowing } from './heap-tuning';
import { startHeapStormMode } from './heap-storm-mode';
import { readMasterKeyFile } from '../store/data-dir';
import type { DemoFleet } from './demo-fleet';
import { CliError } from './cli-errors';
import { parseIntOption, parsePortOption } from './int-option';
import { ensureDemoFds } from './fd-limit';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  demo: number;
  publicHost?: string;
  logLevel: string;
  rendererDir?: string;
  /** null: no TLS listener. */
  tlsPort: number | null;
  tlsCert?: string;
  tlsKey?: string;
  /** Extra serial paths to list (simulator ptys). */
  extraPorts?: string[];
  flashConcurrency?: number;
  /** Advertise by mDNS (default true; `--no-mdns`), under this host name label. */
  mdns?: boolean;
  mdnsName?: string;
  /** LAN-service settings given as flags: they win over settings.json for this run. */
  lan?: Partial<LanSettings>;
}

/** The built dashboard next to the built CLI (out/main -> out/renderer) or in the project's out/. */
export function findRendererDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, '../renderer'),
    join(here, '../../out/renderer'),
    join(here, '../../../out/renderer'),
  ];
  for (const c of candidates) if (existsSync(join(c, 'index.html'))) return resolve(c);
  return null;
}

export function parsePort(text: string): number {
  return parsePortOption(text, '--port');
}

/** `--tls-port`: a port, or `off` for no TLS listener. */
export function parseTlsPort(text: string): number | null {
  return text === 'off' ? null : parsePortOption(text, '--tls-port');
}

export function parseCount(text: string, flag: string, max = 100_000): number {
  return parseIntOption(text, flag, 0, max);
}

export async function serve(
  opts: ServeOptions,
  out: (line: string) => void,
): Promise<() => Promise<void>> {
  if (opts.demo > 0) {
    // Before anything starts: a demo that cannot fit would end in EMFILE halfway (issue 7 item 2).
    const fds = ensureDemoFds(opts.demo);
    if (fds && !fds.ok) throw new CliError(fds.message);
    if (fds?.raisedFrom !== undefined) {
      out(`Raised the file limit from ${fds.raisedFrom} to ${fds.limit} for the demo fleet.`);
    }
  }
  const firstStart = readMasterKeyFile(opts.dataDir) === null;
  tuneHeapGrowing(SERVE_HEAP_GROWING_PERCENT);
  // The storm mode runs unless the process was started with its own factor (which wins).
  const heapTuned = !heapGrowingChosen(process.execArgv);
  const hub = createHub({
    host: opts.host,
    port: opts.port,
    dataDir: opts.dataDir,
    logLevel: opts.logLevel,
    rendererDir: opts.rendererDir ?? findRendererDir(),
    tlsPort: opts.tlsPort,
    flasher: {
      ...(opts.extraPorts !== undefined && { extraPorts: opts.extraPorts }),
      ...(opts.flashConcurrency !== undefined && { concurrency: opts.flashConcurrency }),
    },
    ...(opts.tlsCert !== undefined && { tlsCertFile: opts.tlsCert }),
    ...(opts.tlsKey !== undefined && { tlsKeyFile: opts.tlsKey }),
    ...(opts.publicHost !== undefined && { publicHost: opts.publicHost }),
    ...(opts.lan !== undefined && { lan: opts.lan }),
    discovery: {
      mdns: opts.mdns ?? true,
      ...(opts.mdnsName !== undefined && { mdnsHostName: opts.mdnsName }),
    },
  });
  const urls = await hub.start();
  // Login storms: a loose heap while they last, then the tight, compacted one again.
  const gateway = hub.services().gateway;
  const stopHeapStormMode = heapTuned
    ? startHeapStormMode(
        () => ({ logins: gateway.logins, stepsQueued: gateway.stepsQueued }),
        SERVE_HEAP_GROWING_PERCENT,
      )
    : () => undefined;
  const key = hub.masterKey();
  out(`Fleetbench hub ${firstStart ? 'created its data dir and is' : 'is'} running.`);
  out(`  data dir:   ${opts.dataDir}`);
  out(`  master key: ${key}${firstStart ? '   (new; stored in master.key, mode 0600)' : ''}`);
  out(`  dashboard:  ${urls.dashboard}#key=${key}`);
  out(`  device URL: ${urls.device}`);
  out(`  REST API:   ${urls.http}/api/v2   (Authorization: Bearer <master key>)`);
  if (urls.deviceTls) out(`  TLS device: ${urls.deviceTls}   (https: ${urls.https})`);
  if (urls.caPath)
    out(`  local CA:   ${urls.caPath}   (give this file to firmware that takes a CA)`);
  // LAN services (issue 12): where they answer, or why not and exactly what to do.
  for (const line of lanStatusLines(hub.services().lan.status())) out(line);
  // Discovery (issue 12): said once the name is claimed (~1 s); the hub is already serving.
  void hub
    .services()
    .mdns?.whenSettled()
    .then((m) =>
      out(
        m.advertising
          ? `  mDNS:       ${m.host ?? ''} (_fleetbench._tcp "${m.instance ?? ''}"; find hubs: fleetbench hubs)`
          : `  mDNS:       not advertising: ${m.problem ?? 'stopped'}`,
      ),
    );
  let demo: DemoFleet | null = null;
  if (opts.demo > 0) {
    try {
      // The simulator code is loaded only for a demo fleet, never by a plain hub (issue 11).
      const { startDemoFleet } = await import('./demo-fleet');
      demo = await startDemoFleet(hub, opts.demo, { onExit: (msg) => out(`  ${msg}`) });
    } catch (err) {
      stopHeapStormMode();
      await hub.stop();
      throw new CliError(`demo fleet: ${err instanceof Error ? err.message : String(err)}`);
    }
    out(`  demo fleet: ${opts.demo} simulated devices connecting (process ${demo.pid ?? '?'})`);
  }
  return async () => {
    stopHeapStormMode();
    await demo?.stop();
    await hub.stop();
  };
}

export const SERVE_DEFAULTS = {
  host: '0.0.0.0',
  port: DEFAULT_PORT,
  tlsPort: DEFAULT_TLS_PORT,
  logLevel: 'warn',
};
