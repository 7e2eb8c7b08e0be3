/**
 * The DNS responder's decisions (issue 12), pure: a query's bytes in, a reply's bytes (or "drop",
 * or "forward") out. Packets are read and written by `dns-packet` (a well-kept codec, never hand
 * parsing); a packet it cannot read is dropped and counted, never answered and never fatal.
 *
 * - A query for a configured name: `A` gets the hub's address (short TTL), any other type an
 *   empty NOERROR (so an `AAAA` lookup falls back to IPv4 at once instead of timing out).
 * - Any other name: forwarded when an upstream is configured, else REFUSED (RFC 1035 4.1.1: "the
 *   name server refuses to perform the specified operation"): a clean, immediate no.
 */
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Question } from 'dns-packet';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NOTIMP: 4, REFUSED: 5 } as const;

export type DnsDropReason = 'too_large' | 'malformed' | 'not_query';
export type DnsOutcome = 'answered' | 'nodata' | 'refused' | 'formerr' | 'notimp';

export type DnsDecision =
  | { kind: 'drop'; reason: DnsDropReason }
  | { kind: 'reply'; outcome: DnsOutcome; packet: Buffer }
  | { kind: 'forward'; id: number; question: Question };

export interface DnsAnswerOptions {
  /** Does the hub answer this (lower-case, no trailing dot) name? */
  matches: (name: string) => boolean;
  /** The hub's address for this query (the interface it came in on, or the configured one). */
  address: () => string;
  ttlS: number;
  maxQueryBytes: number;
  /** True when other names go to an upstream resolver instead of REFUSED. */
  forwarding: boolean;
}

/** Lower-case and without the root's trailing dot: names compare case-insensitively (RFC 4343). */
export function normalizeName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** A matcher for names like `mdash.net` (exactly) and `*.pool.ntp.org` (every subdomain). */
export function nameMatcher(names: readonly string[]): (name: string) => boolean {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const n of names.map(normalizeName)) {
    if (n.startsWith('*.')) suffixes.push(n.slice(1));
    else exact.add(n);
  }
  return (name) => {
    const n = normalizeName(name);
    return exact.has(n) || suffixes.some((s) => n.endsWith(s) && n.length > s.length);
  };
}

export function decideDns(msg: Buffer, o: DnsAnswerOptions): DnsDecision {
  if (msg.length > o.maxQueryBytes) return { kind: 'drop', reason: 'too_large' };
  let query: DecodedPacket & { opcode?: string };
  try {
    query = dnsPacket.decode(msg);
  } catch {
    return { kind: 'drop', reason: 'malformed' };
  }
  // Never answer an answer: two responders pointed at each other would loop forever.
  if (query.type === 'response') return { kind: 'drop', reason: 'not_query' };
  const id = query.id ?? 0;
  const questions = query.questions ?? [];
  const rd = query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
  const ra = o.forwarding ? dnsPacket.RECURSION_AVAILABLE : 0;
  const reply = (
    outcome: DnsOutcome,
    rcode: number,
    extra: { aa?: boolean; answers?: Answer[]; questions?: Question[] } = {},
  ): DnsDecision => {
    try {
      const packet = dnsPacket.encode({
        type: 'response',
        id,
        flags: rd | ra | (extra.aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode,
        questions: extra.questions ?? [],
        answers: extra.answers ?? [],
      });
      return { kind: 'reply', outcome, packet };
    } catch {
      // A name dns-packet read but cannot write back (odd bytes in a label): not worth an answer.
      return { kind: 'drop', reason: 'malformed' };
    }
  };
  if (query.opcode !== undefined && query.opcode !== 'QUERY') return reply('notimp', RCODE.NOTIMP);
  // Every resolver in use sends exactly one question (RFC 9619 makes it the rule).
  const [q] = questions;
  if (questions.length !== 1 || q === undefined) return reply('formerr', RCODE.FORMERR);
  const echo = [{ name: q.name, type: q.type, class: q.class ?? 'IN' }] as Question[];
  if ((q.class ?? 'IN') === 'IN' && o.matches(q.name)) {
    // ANY included: RFC 8482 lets a server answer it minimally, and no device asks it.
    if (q.type !== 'A') {
      return reply('nodata', RCODE.NOERROR, { aa: true, questions: echo });
    }
    const answers: Answer[] = [
      { type: 'A', name: q.name, class: 'IN', ttl: o.ttlS, data: o.address() },
    ];
    return reply('answered', RCODE.NOERROR, { aa: true, questions: echo, answers });
  }
  if (o.forwarding) return { kind: 'forward', id, question: q };
  return reply('refused', RCODE.REFUSED, { questions: echo });
}

/** SERVFAIL for a forwarded query whose upstream did not answer (timeout, unreachable, too big). */
export function servfail(msg: Buffer): Buffer | null {
  try {
    const query = dnsPacket.decode(msg);
    return dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags:
        (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) |
        dnsPacket.RECURSION_AVAILABLE |
        RCODE.SERVFAIL,
      questions: query.questions ?? [],
    });
  } catch {
    return null;
  }
}

/** Is `msg` the upstream's answer to query `id`? (A stray or spoofed datagram is not relayed.) */
export function isAnswerTo(msg: Buffer, id: number): boolean {
  try {
    const p = dnsPacket.decode(msg);
    return p.type === 'response' && p.id === id;
  } catch {
    return false;
  }
}
