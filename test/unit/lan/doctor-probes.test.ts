import { describe, expect, it } from 'vitest';
import { readSntpReply, sntpRequest } from '../../../src/main/lan/doctor-probes';
import { splitHostPort } from '../../../src/main/lan/doctor-run';
import { buildSntpReply, parseSntpRequest } from '../../../src/main/lan/sntp-codec';

/** A server reply to `req` with the server's receive/transmit times (ms). */
function reply(req: Buffer, t2: number, t3: number, first = 0x24, stratum = 2): Buffer {
  const b = Buffer.alloc(48);
  b[0] = first;
  b[1] = stratum;
  req.copy(b, 24, 40, 48);
  const put = (off: number, ms: number): void => {
    b.writeUInt32BE(Math.floor(ms / 1000) + 2_208_988_800, off);
    b.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32), off + 4);
  };
  put(32, t2);
  put(40, t3);
  return b;
}

describe('SNTP client probe', () => {
  it('sends a version 4 client request with its transmit time', () => {
    const r = sntpRequest(1_800_000_000_000);
    expect(r.length).toBe(48);
    expect(r[0]).toBe(0x23);
    expect(r.readUInt32BE(40)).toBe(1_800_000_000 + 2_208_988_800);
  });

  it('computes the offset and round trip of a good reply', () => {
    const t1 = 1_800_000_000_000;
    const req = sntpRequest(t1);
    // Server 500 ms ahead, 10 ms each way, 2 ms inside the server.
    const p = readSntpReply(reply(req, t1 + 510, t1 + 512), req, t1 + 22);
    expect(p).toEqual({ ok: true, stratum: 2, offsetMs: 500, roundTripMs: 20 });
  });

  it('reads times past 2036 (NTP era 1), as the server codec writes them', () => {
    // 2040-01-01: the NTP seconds field has wrapped (RFC 4330 section 3).
    const t1 = Date.UTC(2040, 0, 1);
    const req = sntpRequest(t1);
    const parsed = parseSntpRequest(req);
    if (!parsed.ok) throw new Error(parsed.reason);
    const p = readSntpReply(buildSntpReply(parsed, t1 + 510, t1 + 512), req, t1 + 22);
    expect(p).toEqual({ ok: true, stratum: 10, offsetMs: 500, roundTripMs: 20 });
  });

  it('refuses a wrong mode, kiss-o-death, unsynchronised stratum, foreign or short reply', () => {
    const t1 = 1_800_000_000_000;
    const req = sntpRequest(t1);
    expect(readSntpReply(reply(req, t1, t1, 0x23), req, t1)).toMatchObject({
      ok: false,
      error: expect.stringContaining('mode 3'),
    });
    expect(readSntpReply(reply(req, t1, t1, 0x24, 0), req, t1)).toMatchObject({
      ok: false,
      error: expect.stringContaining('kiss'),
    });
    expect(readSntpReply(reply(req, t1, t1, 0x24, 16), req, t1)).toMatchObject({ ok: false });
    expect(readSntpReply(reply(sntpRequest(t1 + 5), t1, t1), req, t1)).toMatchObject({
      ok: false,
      error: expect.stringContaining('echo'),
    });
    expect(readSntpReply(Buffer.alloc(12), req, t1)).toMatchObject({ ok: false });
  });
});

describe('splitHostPort', () => {
  it('reads host, host:port and [v6]:port', () => {
    expect(splitHostPort('pool.ntp.org')).toEqual({ host: 'pool.ntp.org', port: 123 });
    expect(splitHostPort('10.0.0.1:1123')).toEqual({ host: '10.0.0.1', port: 1123 });
    expect(splitHostPort('[::1]:5123')).toEqual({ host: '::1', port: 5123 });
  });
});
