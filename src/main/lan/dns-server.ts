/**
 * The DNS responder on a UDP socket (decisions in dns-answer.ts). Names it does not answer go to
 * the upstream resolver when one is configured: each forwarded query gets its own ephemeral
 * socket (the kernel then only hands us datagrams from that exchange), relayed back byte for byte
 * when the upstream's answer matches the query id, SERVFAIL after the timeout.
 */
import { createSocket } from 'node:dgram';
import { decideDns, isAnswerTo, nameMatcher, servfail, type DnsDropReason } from './dns-answer';
import type { InterfaceReader } from '../hub-urls';
import { localAddressFor } from './local-address';
import { splitUpstream } from '../../shared/lan-schemas';
import type { DatagramHandler } from './udp-responder';

export interface DnsCounters {
  answered: number;
  refused: number;
  forwarded: number;
  /** Forwarded queries that got SERVFAIL (no upstream answer in time, too many waiting). */
  failed: number;
  dropped: Partial<Record<DnsDropReason, number>>;
}

export interface DnsServerOptions {
  names: readonly string[];
  /** Answer with this address instead of the query's interface address. */
  lanAddress: string | null;
  /** The interface table, for the query's interface address (cachedInterfaces: not per query). */
  interfaces: InterfaceReader;
  upstream: { host: string; port: number } | null;
  ttlS: number;
  maxQueryBytes: number;
  maxReplyBytes: number;
  upstreamTimeoutMs: number;
  maxForwards: number;
}

/** `10.0.0.1` or `10.0.0.1:5353` -> host and port (53 by default). Validated by the schema. */
export function parseUpstream(text: string | null): { host: string; port: number } | null {
  if (text === null || text === '') return null;
  const { host, port } = splitUpstream(text);
  return { host, port: port ?? 53 };
}

export function dnsHandler(counters: DnsCounters, o: DnsServerOptions): DatagramHandler {
  const matches = nameMatcher(o.names);
  let inFlight = 0;
  return async (msg, from, reply) => {
    const decision = decideDns(msg, {
      matches,
      address: () => o.lanAddress ?? localAddressFor(from.address, o.interfaces()) ?? '127.0.0.1',
      ttlS: o.ttlS,
      maxQueryBytes: o.maxQueryBytes,
      forwarding: o.upstream !== null,
    });
    if (decision.kind === 'drop') {
      counters.dropped[decision.reason] = (counters.dropped[decision.reason] ?? 0) + 1;
      return;
    }
    if (decision.kind === 'reply') {
      reply(decision.packet);
      if (decision.outcome === 'refused') counters.refused++;
      else counters.answered++;
      return;
    }
    const fail = servfail(msg);
    if (o.upstream === null || inFlight >= o.maxForwards) {
      if (fail) reply(fail);
      counters.failed++;
      return;
    }
    inFlight++;
    try {
      const answer = await forward(msg, decision.id, o.upstream, o);
      if (answer) {
        reply(answer);
        counters.forwarded++;
      } else {
        if (fail) reply(fail);
        counters.failed++;
      }
    } finally {
      inFlight--;
    }
  };
}

/** One exchange with the upstream: its answer, or null (timeout, error, oversized answer). */
function forward(
  msg: Buffer,
  id: number,
  upstream: { host: string; port: number },
  o: Pick<DnsServerOptions, 'maxReplyBytes' | 'upstreamTimeoutMs'>,
): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    let done = false;
    const finish = (answer: Buffer | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(null), o.upstreamTimeoutMs);
    // An ICMP port unreachable (no resolver there) arrives as an error: fail at once.
    socket.on('error', () => finish(null));
    socket.on('message', (answer) => {
      if (answer.length > o.maxReplyBytes) finish(null);
      else if (isAnswerTo(answer, id)) finish(answer);
      // Anything else is a stray datagram: keep waiting for the real answer.
    });
    // Connected: the kernel then hands this socket only datagrams from the upstream.
    socket.connect(upstream.port, upstream.host, () => {
      socket.send(msg, (err) => {
        if (err) finish(null);
      });
    });
  });
}
