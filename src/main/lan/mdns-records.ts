/**
 * The hub's mDNS / DNS-SD records and the answers to queries for them (RFC 6762, RFC 6763): a
 * pure core, values in and values out; lan/mdns-advertiser.ts owns the socket.
 *
 * - `<host>` A (and AAAA) records: the hub's LAN addresses.
 * - `_fleetbench._tcp.local` and `_http._tcp.local` services: PTR -> instance, SRV (HTTP port,
 *   target `<host>`), TXT (`device_url`, `dashboard_url`, `version`, `id`, ...).
 */
import type { Answer, Question, RecordType, SrvAnswer, StringAnswer, TxtAnswer } from 'dns-packet';

/** The record kinds a hub advertises. */
export type HubRecord = StringAnswer | SrvAnswer | TxtAnswer;

/**
 * The ANY question type (255): dns-packet encodes and decodes it, its typings leave it out of
 * RecordType.
 */
export const ANY = 'ANY' as unknown as RecordType;

export const FLEETBENCH_SERVICE = '_fleetbench._tcp.local';
export const HTTP_SERVICE = '_http._tcp.local';
const SERVICES_ENUM = '_services._dns-sd._udp.local';

/** RFC 6762 10: 120 s for records naming a host, 75 minutes for the others. */
const HOST_TTL = 120;
const OTHER_TTL = 4500;
/** RFC 6762 6.7: answers to legacy unicast queries carry TTLs of at most 10 s. */
const LEGACY_TTL = 10;

export interface AdvertisedHub {
  /** Full host name, e.g. `fleetbench.local`. */
  host: string;
  /** DNS-SD instance label (no dots: DNS-SD browsers split on them). */
  instance: string;
  addresses: string[];
  /** The HTTP port (REST, dashboard and the device WebSocket). */
  port: number;
  txt: Record<string, string>;
}

export function serviceFqdn(instance: string, type: string): string {
  return `${instance}.${type}`;
}

function addressRecords(h: AdvertisedHub, ttl: number): HubRecord[] {
  return h.addresses.map((a) =>
    a.includes(':')
      ? { name: h.host, type: 'AAAA', ttl, flush: true, data: a }
      : { name: h.host, type: 'A', ttl, flush: true, data: a },
  );
}

function serviceRecords(h: AdvertisedHub, type: string, txt: string[]): HubRecord[] {
  const fqdn = serviceFqdn(h.instance, type);
  return [
    { name: SERVICES_ENUM, type: 'PTR', ttl: OTHER_TTL, data: type },
    { name: type, type: 'PTR', ttl: OTHER_TTL, data: fqdn },
    {
      name: fqdn,
      type: 'SRV',
      ttl: HOST_TTL,
      flush: true,
      data: { port: h.port, target: h.host, priority: 0, weight: 0 },
    },
    { name: fqdn, type: 'TXT', ttl: OTHER_TTL, flush: true, data: txt },
  ];
}

/** Every record of the hub: what an announcement carries (RFC 6762 8.3). */
export function hubRecords(h: AdvertisedHub): HubRecord[] {
  const txt = Object.entries(h.txt).map(([k, v]) => `${k}=${v}`);
  return [
    ...addressRecords(h, HOST_TTL),
    ...serviceRecords(h, FLEETBENCH_SERVICE, txt),
    ...serviceRecords(h, HTTP_SERVICE, ['path=/']),
  ];
}

/** The same records with TTL 0: "goodbye" (RFC 6762 10.1), sent on stop or for gone addresses. */
export function goodbye(records: HubRecord[]): HubRecord[] {
  return records.map((r) => ({ ...r, ttl: 0 }));
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export function recordKey(r: HubRecord): string {
  return `${r.type} ${r.name.toLowerCase()} ${JSON.stringify(r.data)}`;
}

export interface Answers {
  answers: HubRecord[];
  additionals: HubRecord[];
}

/**
 * The answers to a query's questions, or null when none is ours. A PTR answer brings the SRV,
 * TXT and address records in the additional section, an SRV answer the addresses (RFC 6763 12),
 * so one packet is enough for a browser to resolve the service.
 */
export function answerQuestions(
  records: HubRecord[],
  questions: Question[],
  opts: { legacy?: boolean } = {},
): Answers | null {
  const answers: HubRecord[] = [];
  for (const q of questions) {
    for (const r of records) {
      if (same(r.name, q.name) && (q.type === ANY || q.type === r.type)) answers.push(r);
    }
  }
  if (answers.length === 0) return null;
  const additionals: HubRecord[] = [];
  const addFor = (name: string, types: string[]): void => {
    for (const r of records) if (same(r.name, name) && types.includes(r.type)) additionals.push(r);
  };
  for (const a of answers) {
    if (a.type === 'PTR' && typeof a.data === 'string') addFor(a.data, ['SRV', 'TXT']);
  }
  for (const a of [...answers, ...additionals]) {
    if (a.type === 'SRV') addFor(a.data.target, ['A', 'AAAA']);
  }
  const seen = new Set<string>();
  const uniq = (list: HubRecord[]): HubRecord[] =>
    list.filter((r) => {
      const k = recordKey(r);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  const out = { answers: uniq(answers), additionals: uniq(additionals) };
  if (!opts.legacy) return out;
  // A legacy resolver (dig, a plain DNS stub) caches what it is given: short TTLs, no cache-flush.
  const cap = (r: HubRecord): HubRecord => ({
    ...r,
    ttl: Math.min(r.ttl ?? LEGACY_TTL, LEGACY_TTL),
    flush: false,
  });
  return { answers: out.answers.map(cap), additionals: out.additionals.map(cap) };
}

/**
 * Names a probe found taken (RFC 6762 8.1): any record in a response that names one of the
 * candidates. The caller probes before answering anything, so every response is someone else's.
 */
export function namesTaken(responseRecords: Answer[], candidates: string[]): Set<string> {
  const taken = new Set<string>();
  for (const r of responseRecords) {
    if (r.type !== 'OPT' && r.ttl === 0) continue;
    for (const c of candidates) if (same(r.name, c)) taken.add(c);
  }
  return taken;
}

/** A DNS label from free text: lower case letters, digits and hyphens (RFC 952/1123). */
export function dnsLabel(text: string): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return label === '' ? 'hub' : label;
}

/**
 * Host names to try in order: `<name>.local`, then `<name>-<hostname>.local`, then with the hub
 * id too (two hubs on one machine). Deterministic, so the TLS certificate can cover all of them.
 */
export function hostCandidates(name: string, machineHostname: string, id: string): string[] {
  const base = dnsLabel(name);
  const short = dnsLabel(machineHostname.split('.')[0] ?? '');
  return [
    `${base}.local`,
    `${base}-${short}.local`,
    `${base}-${short}-${dnsLabel(id).slice(0, 6)}.local`,
  ];
}

/** Instance names to try in order: readable first, with the hub id when that is taken. */
export function instanceCandidates(machineHostname: string, id: string): string[] {
  // No dots: DNS-SD allows them in instance names, but browsers (bonjour-service) split on them.
  const short = (machineHostname.split('.')[0] ?? '').replace(/[.]/g, '-') || 'hub';
  return [`Fleetbench on ${short}`, `Fleetbench on ${short} (${id.slice(0, 6)})`];
}
