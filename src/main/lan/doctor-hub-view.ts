/**
 * What the doctor reads from a running hub's parts (hub.ts hands it the services). The LAN
 * services (`lan`) and the mDNS advertiser (`mdns`) are separate parts that a hub may lack, so
 * they are read through small structural views and a hub without them gets those checks skipped.
 */
import type { LanStatus } from '../../shared/lan';
import type { Store } from '../store/store';
import type { MdnsFacts } from './doctor-checks';
import type { DoctorHubView } from './doctor-run';

/** The part of the LAN services the doctor reads. */
export interface LanStatusSource {
  status(): LanStatus;
}

/**
 * The part of the mDNS advertiser the doctor reads: whether it advertises, under which host name
 * (`fleetbench.local`), and why not.
 */
export interface MdnsStatusSource {
  status(): {
    advertising?: boolean;
    running?: boolean;
    host?: string;
    problem?: string | { message: string } | null;
  };
}

function hasStatus(x: unknown): x is { status(): unknown } {
  return (
    typeof x === 'object' && x !== null && typeof (x as { status?: unknown }).status === 'function'
  );
}

export function mdnsFacts(source: unknown): MdnsFacts | null {
  if (!hasStatus(source)) return null;
  const s = (source as MdnsStatusSource).status();
  const problem = typeof s.problem === 'string' ? s.problem : (s.problem?.message ?? undefined);
  return {
    advertising: s.advertising ?? s.running ?? false,
    ...(s.host !== undefined && { host: s.host }),
    ...(problem !== undefined && { problem }),
  };
}

export function lanStatusOf(source: unknown): LanStatus | null {
  return hasStatus(source) ? (source as LanStatusSource).status() : null;
}

/** The newest notification's time (ms): a clock before it went backwards. */
export function newestLogMs(store: Store): number | null {
  try {
    return store.log.query({ start: 0, limit: 1 })[0]?.timestamp ?? null;
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
  /** `services.lan` and `services.mdns` (undefined before start, mdns null when it is off). */
  lan: () => LanStatusSource | null | undefined;
  mdns: () => MdnsStatusSource | null | undefined;
}

export function doctorHubView(p: DoctorParts): DoctorHubView {
  return {
    bindHost: p.bindHost,
    httpPort: p.httpPort(),
    tlsPort: p.tlsPort(),
    dataDir: p.dataDir,
    ...(p.tlsCertFile !== undefined && { tlsCertFile: p.tlsCertFile }),
    newestStoredMs: () => newestLogMs(p.store),
    lanStatus: () => lanStatusOf(p.lan()),
    mdnsStatus: () => mdnsFacts(p.mdns()),
  };
}
