/**
 * The SNTP server (RFC 4330 server mode) on a UDP socket: each client request gets one reply from
 * the hub's clock; anything else is dropped and counted by reason (sntp-codec.ts).
 */
import { buildSntpReply, parseSntpRequest, type SntpDropReason } from './sntp-codec';
import type { DatagramHandler } from './udp-responder';

export interface SntpCounters {
  answered: number;
  dropped: Partial<Record<SntpDropReason, number>>;
}

export function sntpHandler(
  counters: SntpCounters,
  maxPacketBytes: number,
  clock: () => number = Date.now,
): DatagramHandler {
  return (msg, _from, reply) => {
    // Read the clock first: the receive timestamp is when the request arrived, not when parsed.
    const received = clock();
    const req = parseSntpRequest(msg, maxPacketBytes);
    if (!req.ok) {
      counters.dropped[req.reason] = (counters.dropped[req.reason] ?? 0) + 1;
      return;
    }
    reply(buildSntpReply(req, received, clock()));
    counters.answered++;
  };
}
