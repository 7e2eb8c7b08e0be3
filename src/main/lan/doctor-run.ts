/**
 * Runs the doctor for a running hub (GET /api/v2/doctor): reads what the hub's parts say about
 * themselves, runs the probes at once (each bounded by PROBE_TIMEOUT_MS), and hands the facts to
 * the pure core. The LAN services and the mDNS advertiser may be absent (before start, mDNS off):
 * those checks are then skipped.
 */
import type { DoctorReport, LanStatus } from '../../shared/lan';
import { lanAddresses, type InterfaceReader } from '../hub-urls';
import { evaluateDoctor, type DoctorInputs, type MdnsFacts } from './doctor-checks';
import { probeDns, probeSntp, probeTcp, tlsFacts } from './doctor-probes';

/** The name the mDash library resolves before anything else (issue 12). */
export const DOCTOR_DNS_NAME = 'time.google.com';

const isWildcard = (h: string): boolean => h === '0.0.0.0' || h === '::';

/** What the doctor reads from the hub (built from HubServices by the route). */
export interface DoctorHubView {
  bindHost: string;
  httpPort: number;
  /** The TLS listener's port, null when TLS is off. */
  tlsPort: number | null;
  dataDir: string;
  tlsCertFile?: string;
  /** The interface list (os.networkInterfaces, or the one a test injected into the hub). */
  readInterfaces: InterfaceReader;
  /** Newest stored event time (ms), or null. */
  newestStoredMs(): number | null;
  /** The LAN services' status, or null when the hub has none. */
  lanStatus(): LanStatus | null;
  /** The mDNS advertiser's status, or null when the hub has none. */
  mdnsStatus(): MdnsFacts | null;
}

export interface DoctorRunOptions {
  /** `host[:port]` of an NTP server to compare the clock with; none: the comparison is skipped. */
  ntpServer?: string | null;
  now?: () => number;
}

/** `host`, `host:port` or `[v6]:port` -> host and port (123 by default). */
export function splitHostPort(text: string, defaultPort = 123): { host: string; port: number } {
  const v6 = /^\[(.+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1] ?? '', port: v6[2] !== undefined ? Number(v6[2]) : defaultPort };
  const m = /^([^:]+):(\d+)$/.exec(text);
  if (m) return { host: m[1] ?? '', port: Number(m[2]) };
  return { host: text, port: defaultPort };
}

export async function runDoctor(
  hub: DoctorHubView,
  o: DoctorRunOptions = {},
): Promise<DoctorReport> {
  const now = o.now ?? Date.now;
  const addresses = lanAddresses(hub.readInterfaces);
  const lan = hub.lanStatus();
  const lanAddress = lan?.lan_address ?? null;
  const mdns = hub.mdnsStatus();
  // Where a device would connect: the configured LAN address, else the first one; a hub bound to
  // one interface is probed there only when no LAN address exists (the probe then says so).
  const probedHost =
    lanAddress ??
    addresses[0] ??
    (isWildcard(hub.bindHost) || hub.bindHost === 'localhost' ? '127.0.0.1' : hub.bindHost);
  // The responders bind the hub's interface: probed there when it is one address (loopback).
  const serviceHost = isWildcard(hub.bindHost) ? probedHost : hub.bindHost;
  const services = lan?.enabled === true ? lan : null;
  const ntp = o.ntpServer ? splitHostPort(o.ntpServer) : null;
  const skip = Promise.resolve(null);
  const [http, tls, sntp, dns, upstream] = await Promise.all([
    probeTcp(probedHost, hub.httpPort),
    hub.tlsPort !== null ? probeTcp(probedHost, hub.tlsPort) : skip,
    services?.sntp.listening ? probeSntp(serviceHost, services.sntp.port) : skip,
    services?.dns.listening ? probeDns(serviceHost, services.dns.port, DOCTOR_DNS_NAME) : skip,
    ntp ? probeSntp(ntp.host, ntp.port) : skip,
  ]);
  const certNames = [...addresses, ...(lanAddress !== null ? [lanAddress] : [])];
  if (mdns?.host !== undefined) certNames.push(mdns.host);
  const inputs: DoctorInputs = {
    addresses,
    lanAddress,
    probedHost,
    serviceHost,
    bindHost: hub.bindHost,
    httpPort: hub.httpPort,
    http,
    tlsPort: hub.tlsPort,
    tls,
    lan: lan && { enabled: lan.enabled, sntp: lan.sntp, dns: lan.dns },
    sntp,
    dns,
    dnsName: DOCTOR_DNS_NAME,
    cert: tlsFacts(
      hub.dataDir,
      [...new Set(certNames)],
      {
        on: hub.tlsPort !== null,
        ...(hub.tlsCertFile !== undefined && { certFile: hub.tlsCertFile }),
      },
      new Date(now()),
    ),
    clock: {
      nowMs: now(),
      newestStoredMs: hub.newestStoredMs(),
      upstream: ntp && o.ntpServer && upstream ? { server: o.ntpServer, probe: upstream } : null,
    },
    mdns,
  };
  return { checked_at: Math.floor(now() / 1000), checks: evaluateDoctor(inputs) };
}
