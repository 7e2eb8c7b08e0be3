/**
 * The pure core of `fleetbench doctor` and the dashboard's Network page (issue 12): what the
 * probes found (doctor-probes.ts) goes in, one DoctorCheck per thing a site needs comes out, each
 * failure with the exact thing to do about it. No sockets, files or clocks here: every input is
 * given, so each check is tested for ok and fail with plain values.
 */
import type { CheckState, DoctorCheck, ResponderStatus } from '../../shared/lan';

/**
 * The year this version was released: a clock before it is certainly wrong (a board without a
 * real-time clock boots in 1970 or 2000), and TLS certificates made by this version start later.
 */
export const RELEASE_YEAR = 2026;

/** How far the hub's clock may be from an upstream NTP server before devices notice (TLS, logs). */
export const MAX_CLOCK_OFFSET_MS = 2000;

/** A TCP port probe: connected, or the socket error code (ECONNREFUSED, ETIMEDOUT...). */
export type PortProbe = { ok: true } | { ok: false; error: string };

/** A real SNTP request's outcome: the server's stratum and our offset from its clock. */
export type SntpProbe =
  | { ok: true; stratum: number; offsetMs: number; roundTripMs: number }
  | { ok: false; error: string };

/** A real DNS A query's outcome: the addresses answered (empty for NXDOMAIN or a refusal). */
export type DnsProbe =
  { ok: true; rcode: string; answers: string[] } | { ok: false; error: string };

/** What the TLS listener serves, seen from its files. */
export type TlsFacts =
  | { kind: 'off' }
  | { kind: 'user'; certFile: string; covers: boolean; missing: string[] }
  | { kind: 'missing'; dir: string }
  | {
      kind: 'generated';
      dir: string;
      covers: boolean;
      /** Names (addresses, the .local name) the certificate does not cover. */
      missing: string[];
      /** ISO date the certificate stops being valid. */
      validTo: string;
      expiresSoon: boolean;
    };

/** What the mDNS advertiser says about itself (when the hub has one). */
export interface MdnsFacts {
  advertising: boolean;
  host?: string;
  problem?: string;
}

export interface DoctorInputs {
  /** The hub's non-internal IPv4 addresses right now. */
  addresses: string[];
  /** `--lan-address` or the saved setting, when given. */
  lanAddress: string | null;
  /** The address the port probes connected to (the LAN address, or loopback without one). */
  probedHost: string;
  /** Where the SNTP and DNS probes went: the probed host, or the one interface the hub binds. */
  serviceHost: string;
  /** The interface the hub is bound to (`--host`). */
  bindHost: string;
  httpPort: number;
  http: PortProbe;
  tlsPort: number | null;
  tls: PortProbe | null;
  /** The LAN services' status, or null when this hub has none. */
  lan: { enabled: boolean; sntp: ResponderStatus; dns: ResponderStatus } | null;
  sntp: SntpProbe | null;
  dns: DnsProbe | null;
  /** The name the DNS probe asked for (`time.google.com`). */
  dnsName: string;
  cert: TlsFacts;
  clock: ClockFacts;
  /** Null when this hub has no mDNS advertiser. */
  mdns: MdnsFacts | null;
}

export interface ClockFacts {
  nowMs: number;
  /** The newest timestamp the store holds (ms), or null when it holds none. */
  newestStoredMs: number | null;
  /** An upstream NTP server compared with, or null when none is configured. */
  upstream: { server: string; probe: SntpProbe } | null;
}

const check = (
  id: string,
  title: string,
  state: CheckState,
  detail: string,
  fix?: string,
): DoctorCheck => ({ id, title, state, detail, ...(fix !== undefined && { fix }) });

/**
 * A fix: a line of prose, then each command on its own line indented by two spaces (the form
 * bind-problem.ts uses), so the CLI prints them ready to paste and the dashboard can offer each
 * command alone to copy.
 */
export const fixText = (prose: string, ...commands: string[]): string =>
  [prose, ...commands.map((c) => `  ${c}`)].join('\n');

/** The firewall commands that open a port: ufw, firewalld, Windows. */
export function firewallFix(port: number, proto: 'tcp' | 'udp'): string {
  return fixText(
    'Let devices in through the firewall (ufw, firewalld or Windows, whichever this machine runs):',
    `sudo ufw allow ${port}/${proto}`,
    `sudo firewall-cmd --add-port=${port}/${proto} --permanent && sudo firewall-cmd --reload`,
    `New-NetFirewallRule -DisplayName "Fleetbench ${port}" -Direction Inbound -Protocol ${proto.toUpperCase()} -LocalPort ${port} -Action Allow`,
  );
}

export function checkLanAddress(i: Pick<DoctorInputs, 'addresses' | 'lanAddress'>): DoctorCheck {
  const title = 'LAN address';
  if (i.lanAddress !== null && !i.addresses.includes(i.lanAddress)) {
    return check(
      'lan-address',
      title,
      'fail',
      `--lan-address ${i.lanAddress} is not an address of this machine (it has: ${i.addresses.join(', ') || 'none'})`,
      i.addresses[0] !== undefined
        ? fixText(
            "Use one of this machine's addresses:",
            `fleetbench serve --lan-address ${i.addresses[0]}`,
          )
        : 'Connect this machine to the LAN (Wi-Fi or Ethernet), then restart the hub.',
    );
  }
  if (i.addresses.length === 0) {
    return check(
      'lan-address',
      title,
      'fail',
      'this machine has no IPv4 address on a LAN interface: devices cannot reach it',
      fixText(
        'Connect this machine to the LAN (Wi-Fi or Ethernet, or make it the hotspot), or give the address devices use:',
        'fleetbench serve --lan-address <ip>',
      ),
    );
  }
  const shown = i.lanAddress ?? i.addresses[0];
  const more =
    i.addresses.length > 1 ? ` (also: ${i.addresses.filter((a) => a !== shown).join(', ')})` : '';
  return check('lan-address', title, 'ok', `devices reach this hub at ${shown}${more}`);
}

function portCheck(
  id: string,
  title: string,
  port: number,
  probe: PortProbe,
  i: Pick<DoctorInputs, 'probedHost' | 'bindHost'>,
  flag: string,
): DoctorCheck {
  const where = `${i.probedHost}:${port}`;
  if (probe.ok) return check(id, title, 'ok', `${where} accepts connections`);
  const loopbackOnly =
    i.bindHost === '127.0.0.1' || i.bindHost === '::1' || i.bindHost === 'localhost';
  if (loopbackOnly && i.probedHost !== i.bindHost) {
    return check(
      id,
      title,
      'fail',
      `${where}: ${probe.error}; the hub listens on ${i.bindHost} only, which devices cannot reach`,
      fixText(
        'Restart the hub on every interface:',
        `fleetbench serve --host 0.0.0.0 ${flag} ${port}`,
      ),
    );
  }
  return check(id, title, 'fail', `${where}: ${probe.error}`, firewallFix(port, 'tcp'));
}

export function checkHttpPort(i: DoctorInputs): DoctorCheck {
  return portCheck('http-port', `HTTP port ${i.httpPort}`, i.httpPort, i.http, i, '--port');
}

export function checkTlsPort(i: DoctorInputs): DoctorCheck {
  if (i.tlsPort === null || i.tls === null) {
    return check(
      'tls-port',
      'TLS port',
      'skip',
      'TLS is off (--tls-port off): devices connect over ws:// only',
    );
  }
  return portCheck('tls-port', `TLS port ${i.tlsPort}`, i.tlsPort, i.tls, i, '--tls-port');
}

/** Why a responder is down, with the fix its service gave (EACCES below 1024 and the like). */
function responderDown(id: string, title: string, r: ResponderStatus, flag: string): DoctorCheck {
  if (r.problem) return check(id, title, 'fail', r.problem.message, r.problem.fix);
  return check(
    id,
    title,
    'fail',
    `not listening on UDP ${r.port}`,
    fixText(
      "See the hub's log for why, or give the responder another port:",
      `fleetbench serve --lan-services ${flag} <port>`,
    ),
  );
}

const lanOffFix = fixText(
  'Turn on the LAN services (the switch on the Settings page, or the flag below) so devices with no internet get time and names from the hub:',
  'fleetbench serve --lan-services',
);

export function checkSntp(i: DoctorInputs): DoctorCheck {
  const title = 'SNTP (time for devices)';
  if (i.lan === null) return check('sntp', title, 'skip', 'this hub has no LAN services');
  if (!i.lan.enabled) return check('sntp', title, 'warn', 'LAN services are off', lanOffFix);
  const r = i.lan.sntp;
  if (!r.listening) return responderDown('sntp', title, r, '--sntp-port');
  const p = i.sntp;
  if (p === null) return check('sntp', title, 'skip', 'not probed');
  if (!p.ok) {
    return check(
      'sntp',
      title,
      'fail',
      `UDP ${r.port} is bound but a real SNTP request got: ${p.error}`,
      `let devices in through the firewall:\n${firewallFix(r.port, 'udp')}`,
    );
  }
  return check(
    'sntp',
    title,
    'ok',
    `UDP ${r.port} answered an SNTP request (stratum ${p.stratum}, ${p.roundTripMs} ms)`,
  );
}

export function checkDns(i: DoctorInputs): DoctorCheck {
  const title = 'DNS (names for devices)';
  if (i.lan === null) return check('dns', title, 'skip', 'this hub has no LAN services');
  if (!i.lan.enabled) return check('dns', title, 'warn', 'LAN services are off', lanOffFix);
  const r = i.lan.dns;
  if (!r.listening) return responderDown('dns', title, r, '--dns-port');
  const p = i.dns;
  if (p === null) return check('dns', title, 'skip', 'not probed');
  if (!p.ok) {
    return check(
      'dns',
      title,
      'fail',
      `UDP ${r.port} is bound but a query for ${i.dnsName} got: ${p.error}`,
      `let devices in through the firewall:\n${firewallFix(r.port, 'udp')}`,
    );
  }
  const expected = new Set([
    ...(i.lanAddress !== null ? [i.lanAddress] : []),
    ...i.addresses,
    i.serviceHost,
  ]);
  const good = p.answers.filter((a) => expected.has(a));
  if (good.length === 0) {
    return check(
      'dns',
      title,
      'fail',
      `${i.dnsName} answered ${p.answers.join(', ') || `nothing (${p.rcode})`}, not this hub's address`,
      fixText(
        `Answer ${i.dnsName} with the hub: add it to the names on the Settings page, or set the address devices use:`,
        `fleetbench serve --lan-services --lan-address ${i.lanAddress ?? i.addresses[0] ?? '<ip>'}`,
      ),
    );
  }
  return check('dns', title, 'ok', `UDP ${r.port} answers ${i.dnsName} -> ${good.join(', ')}`);
}

export function checkCert(i: Pick<DoctorInputs, 'cert'>): DoctorCheck {
  const title = 'TLS certificate';
  const c = i.cert;
  switch (c.kind) {
    case 'off':
      return check('tls-cert', title, 'skip', 'TLS is off (--tls-port off)');
    case 'missing':
      return check(
        'tls-cert',
        title,
        'fail',
        `no server certificate in ${c.dir}`,
        fixText(
          'Start the hub once with TLS on: it makes a local CA and a server certificate there.',
          'fleetbench serve',
        ),
      );
    case 'user':
      return c.covers
        ? check('tls-cert', title, 'ok', `${c.certFile} covers this hub's names`)
        : check(
            'tls-cert',
            title,
            'fail',
            `${c.certFile} does not cover: ${c.missing.join(', ') || 'it expires within 30 days'}`,
            `Issue a certificate whose subjectAltName lists ${c.missing.join(', ') || 'the same names'} and pass it with --tls-cert/--tls-key, or drop both flags to use the hub's local CA.`,
          );
    case 'generated':
      if (!c.covers) {
        return check(
          'tls-cert',
          title,
          'fail',
          c.missing.length > 0
            ? `the server certificate does not cover: ${c.missing.join(', ')}`
            : `the server certificate expires ${c.validTo}`,
          `Restart the hub: it makes a new server certificate for the current addresses, signed by the same local CA (${c.dir}/ca.pem stays, so devices need nothing new).`,
        );
      }
      return check(
        'tls-cert',
        title,
        'ok',
        `covers this hub's addresses and names, valid until ${c.validTo.slice(0, 10)}`,
      );
  }
}

export function checkClock(i: Pick<DoctorInputs, 'clock'>): DoctorCheck {
  const title = 'Clock';
  const { nowMs, newestStoredMs, upstream } = i.clock;
  const now = new Date(nowMs);
  const setIt = fixText(
    'Set the clock (put the real time in), or let it sync when an NTP server is reachable:',
    'sudo timedatectl set-time "YYYY-MM-DD HH:MM:SS"',
    'sudo timedatectl set-ntp true',
  );
  if (now.getUTCFullYear() < RELEASE_YEAR) {
    return check(
      'clock',
      title,
      'fail',
      `the clock says ${now.toISOString()}, before this version was released (${RELEASE_YEAR}): devices get this time by SNTP and TLS certificates look not yet valid`,
      setIt,
    );
  }
  if (newestStoredMs !== null && nowMs < newestStoredMs - MAX_CLOCK_OFFSET_MS) {
    return check(
      'clock',
      title,
      'fail',
      `the clock says ${now.toISOString()}, before the newest stored event (${new Date(newestStoredMs).toISOString()}): it went backwards`,
      setIt,
    );
  }
  if (upstream === null) {
    return check(
      'clock',
      title,
      'skip',
      `${now.toISOString()} looks sane; no upstream NTP server is configured to compare with`,
    );
  }
  if (!upstream.probe.ok) {
    return check(
      'clock',
      title,
      'skip',
      `${now.toISOString()} looks sane; the upstream NTP server ${upstream.server} did not answer (${upstream.probe.error})`,
    );
  }
  const off = upstream.probe.offsetMs;
  if (Math.abs(off) > MAX_CLOCK_OFFSET_MS) {
    return check(
      'clock',
      title,
      'fail',
      `the clock is ${(off / 1000).toFixed(1)} s off ${upstream.server}`,
      fixText(
        'Sync it once (ntpdate, or chrony when it runs), then keep it synced:',
        `sudo ntpdate ${upstream.server}`,
        'sudo chronyc makestep',
        'sudo timedatectl set-ntp true',
      ),
    );
  }
  return check('clock', title, 'ok', `within ${Math.abs(off)} ms of ${upstream.server}`);
}

export function checkMdns(i: Pick<DoctorInputs, 'mdns'>): DoctorCheck {
  const title = 'mDNS (discovery)';
  const m = i.mdns;
  if (m === null) return check('mdns', title, 'skip', 'mDNS advertising is off on this hub');
  if (!m.advertising) {
    return check(
      'mdns',
      title,
      'fail',
      m.problem ?? 'not advertising',
      fixText(
        'UDP 5353 must be free for the hub or shared: stop a responder that holds it exclusively, and let mDNS through the firewall:',
        'sudo ufw allow 5353/udp',
      ),
    );
  }
  return check('mdns', title, 'ok', `advertising${m.host !== undefined ? ` ${m.host}` : ''}`);
}

/** Every check, in the order a person fixes things: network first, then services, then trust. */
export function evaluateDoctor(i: DoctorInputs): DoctorCheck[] {
  return [
    checkLanAddress(i),
    checkHttpPort(i),
    checkTlsPort(i),
    checkSntp(i),
    checkDns(i),
    checkCert(i),
    checkClock(i),
    checkMdns(i),
  ];
}

/** 0 when nothing failed, 1 otherwise (`fleetbench doctor`'s exit code). */
export const doctorExitCode = (checks: readonly DoctorCheck[]): 0 | 1 =>
  checks.some((c) => c.state === 'fail') ? 1 : 0;
