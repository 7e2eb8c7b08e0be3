/**
 * The doctor's probes (issue 12): each asks the network or the disk one real question and
 * returns plain facts for the pure core (doctor-checks.ts). The SNTP and DNS probes send what a
 * device sends: a 48-byte SNTP client request, a DNS A query built with dns-packet. They are the
 * doctor's own clients, independent of the hub's responders, so a broken responder shows.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt, X509Certificate } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { certCovers } from '../tls/tls-material';
import { readNtpTime, writeNtpTime } from './sntp-codec';
import type { DnsProbe, PortProbe, SntpProbe, TlsFacts } from './doctor-checks';

/** How long one probe waits for an answer: a LAN answers in milliseconds. */
export const PROBE_TIMEOUT_MS = 1500;

export function probeTcp(
  host: string,
  port: number,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<PortProbe> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (r: PortProbe): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'no answer (ETIMEDOUT)' }), timeoutMs);
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({ ok: false, error: err.code ?? err.message }),
    );
  });
}

/**
 * The SNTP client request of RFC 4330 section 5: LI 0, version 4, mode 3 (client), the transmit
 * timestamp set so the reply's originate timestamp can be matched to it.
 */
export function sntpRequest(nowMs: number): Buffer {
  const buf = Buffer.alloc(48);
  buf[0] = (0 << 6) | (4 << 3) | 3;
  writeNtpTime(buf, 40, nowMs);
  return buf;
}

/**
 * Checks a reply the way RFC 4330 section 5 asks a client to: mode 4 (server), stratum 1-15, the
 * originate timestamp echoing our request, a non-zero transmit timestamp; then the clock offset
 * ((T2 - T1) + (T3 - T4)) / 2 and round trip (T4 - T1) - (T3 - T2).
 */
export function readSntpReply(reply: Buffer, request: Buffer, t4Ms: number): SntpProbe {
  if (reply.length < 48) return { ok: false, error: `a ${reply.length}-byte reply (want 48)` };
  const mode = reply[0]! & 7;
  const stratum = reply[1]!;
  if (mode !== 4) return { ok: false, error: `reply mode ${mode} (want 4, server)` };
  if (stratum === 0) return { ok: false, error: 'a kiss-o-death reply (stratum 0)' };
  if (stratum > 15) return { ok: false, error: `stratum ${stratum}: the server is unsynchronised` };
  if (!reply.subarray(24, 32).equals(request.subarray(40, 48))) {
    return { ok: false, error: 'the reply does not echo our request (originate timestamp)' };
  }
  if (reply.readUInt32BE(40) === 0) return { ok: false, error: 'the reply has no transmit time' };
  const t1 = readNtpTime(request, 40);
  const t2 = readNtpTime(reply, 32);
  const t3 = readNtpTime(reply, 40);
  return {
    ok: true,
    stratum,
    offsetMs: Math.round((t2 - t1 + (t3 - t4Ms)) / 2),
    roundTripMs: Math.max(0, Math.round(t4Ms - t1 - (t3 - t2))),
  };
}

/** Sends one UDP datagram and waits for the first reply `accept` takes. */
function udpAsk(
  host: string,
  port: number,
  payload: Buffer,
  accept: (msg: Buffer) => boolean,
  timeoutMs: number,
): Promise<{ ok: true; reply: Buffer; atMs: number } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const done = (
      r: { ok: true; reply: Buffer; atMs: number } | { ok: false; error: string },
    ): void => {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'no answer' }), timeoutMs);
    sock.on('message', (msg) => {
      if (accept(msg)) done({ ok: true, reply: msg, atMs: Date.now() });
    });
    // ECONNREFUSED arrives here when nothing is bound on the port (ICMP port unreachable).
    sock.on('error', (err: NodeJS.ErrnoException) =>
      done({ ok: false, error: err.code ?? err.message }),
    );
    sock.send(payload, port, host, (err) => {
      if (err) done({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message });
    });
  });
}

export async function probeSntp(
  host: string,
  port: number,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<SntpProbe> {
  const request = sntpRequest(Date.now());
  const r = await udpAsk(host, port, request, (m) => m.length >= 48, timeoutMs);
  if (!r.ok) return r;
  return readSntpReply(r.reply, request, r.atMs);
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** One A query, recursion desired as a device's resolver asks. */
export async function probeDns(
  host: string,
  port: number,
  name: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<DnsProbe> {
  const id = randomInt(1, 0xffff);
  const query = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name }],
  });
  const r = await udpAsk(
    host,
    port,
    query,
    (m) => {
      try {
        return dnsPacket.decode(m).id === id;
      } catch {
        return false;
      }
    },
    timeoutMs,
  );
  if (!r.ok) return r;
  const packet = dnsPacket.decode(r.reply);
  const answers: string[] = [];
  for (const a of packet.answers ?? []) if (a.type === 'A') answers.push(a.data);
  // The response code is the low 4 bits of the flags (RFC 1035 4.1.1); the typings omit `rcode`.
  const rcode = RCODES[(packet.flags ?? 0) & 0xf] ?? `RCODE ${(packet.flags ?? 0) & 0xf}`;
  return { ok: true, rcode, answers };
}

/** The TLS files in `<dataDir>/tls/` (tls-material.ts) or the user's certificate, against `names`. */
export function tlsFacts(
  dataDir: string,
  names: string[],
  tls: { on: boolean; certFile?: string },
  now = new Date(),
): TlsFacts {
  if (!tls.on) return { kind: 'off' };
  const covering = (pem: string): { covers: boolean; missing: string[] } => {
    // certCovers also wants a month of validity left: ask it per name, with `now`, for the list.
    const missing = names.filter((n) => !certCovers(pem, [n], new Date(0)));
    return { covers: certCovers(pem, names, now), missing };
  };
  if (tls.certFile !== undefined) {
    try {
      return {
        kind: 'user',
        certFile: tls.certFile,
        ...covering(readFileSync(tls.certFile, 'utf8')),
      };
    } catch (err) {
      return {
        kind: 'user',
        certFile: tls.certFile,
        covers: false,
        missing: [(err as Error).message],
      };
    }
  }
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, 'server.pem');
  if (!existsSync(certPath) || !existsSync(join(dir, 'ca.pem'))) return { kind: 'missing', dir };
  const pem = readFileSync(certPath, 'utf8');
  const validTo = new Date(new X509Certificate(pem).validTo);
  return {
    kind: 'generated',
    dir,
    ...covering(pem),
    validTo: validTo.toISOString(),
    expiresSoon: validTo.getTime() - now.getTime() < 30 * 24 * 3600 * 1000,
  };
}
