/**
 * What the doctor reads from a running hub's parts (hub.ts hands them over). The LAN services and
 * the mDNS advertiser give their typed status; null when the hub has not started them (before
 * start, or mDNS off), and the doctor then skips those checks.
 */
import type { LanStatus, MdnsStatus } from '../../shared/lan';
import type { InterfaceReader } from '../hub-urls';
import type { Store } from '../store/store';
import type { MdnsFacts } from './doctor-checks';
import type { DoctorHubView } from './doctor-run';

/** What the mDNS check needs: whether it advertises, under which name (`fleetbench.local`), why not. */
export function mdnsFacts(status: MdnsStatus | null): MdnsFacts | null {
  if (status === null) return null;
  return {
    advertising: status.advertising,
    ...(status.host !== undefined && { host: status.host }),
    ...(status.problem !== undefined && { problem: status.problem }),
  };
}

/** The newest notification's time (ms): a clock before it went backwards. */
export function newestLogMs(store: Store): number | null {
  try {
    return store.log.newestMs();
  } catch {
    return null;
  }
}

export interface DoctorParts {
  bindHost: string;
  httpPort: () => number;
  tlsPort: () => number | null;
  dataDir: string;
  tlsCertFile?: string;
  store: Store;
  /** The interface list the hub reads (a test injects one). */
  readInterfaces: InterfaceReader;
  /** `services.lan.status()`; null before start. */
  lan: () => LanStatus | null;
  /** `services.mdns.status()`; null before start or with mDNS off. */
  mdns: () => MdnsStatus | null;
}

export function doctorHubView(p: DoctorParts): DoctorHubView {
  return {
    bindHost: p.bindHost,
    httpPort: p.httpPort(),
    tlsPort: p.tlsPort(),
    dataDir: p.dataDir,
    ...(p.tlsCertFile !== undefined && { tlsCertFile: p.tlsCertFile }),
    readInterfaces: p.readInterfaces,
    newestStoredMs: () => newestLogMs(p.store),
    lanStatus: p.lan,
    mdnsStatus: () => mdnsFacts(p.mdns()),
  };
}
