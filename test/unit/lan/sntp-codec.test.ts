/**
 * SNTP server codec (RFC 4330 section 5): request parsing, the reply's fields, NTP timestamps,
 * and every kind of packet that must be dropped instead of answered.
 */
import { describe, expect, it } from 'vitest';
import {
  NTP_PACKET_BYTES,
  SNTP_STRATUM,
  buildSntpReply,
  parseSntpRequest,
  readNtpTime,
  writeNtpTime,
} from '../../../src/main/lan/sntp-codec';
import { sntpHandler, type SntpCounters } from '../../../src/main/lan/sntp-server';

function request(version = 4, mode = 3, transmitMs = 1_700_000_000_123.5): Buffer {
  const b = Buffer.alloc(NTP_PACKET_BYTES);
  b[0] = (0 << 6) | (version << 3) | mode;
  b.writeInt8(6, 2); // poll 64 s
  writeNtpTime(b, 40, transmitMs);
  return b;
}

describe('NTP timestamps', () => {
  it('round-trips Unix ms through the 64-bit fixed point (sub-microsecond)', () => {
    const b = Buffer.alloc(8);
    for (const ms of [0, 1_700_000_000_000, 1_700_000_000_999.999, 2_000_000_000_000.25]) {
      writeNtpTime(b, 0, ms);
      expect(Math.abs(readNtpTime(b, 0) - ms)).toBeLessThan(0.001);
    }
  });

  it('writes the Unix epoch as 2208988800 s since 1900', () => {
    const b = Buffer.alloc(8);
    writeNtpTime(b, 0, 0);
    expect(b.readUInt32BE(0)).toBe(2_208_988_800);
    expect(b.readUInt32BE(4)).toBe(0);
  });

  it('wraps into era 1 after 2036-02-07 (RFC 4330 section 3)', () => {
    const b = Buffer.alloc(8);
    const after2036 = Date.UTC(2040, 0, 1);
    writeNtpTime(b, 0, after2036);
    expect(b.readUInt32BE(0)).toBeLessThan(0x8000_0000);
    expect(readNtpTime(b, 0)).toBe(after2036);
  });
});

describe('parseSntpRequest', () => {
  it('accepts a client-mode request of versions 1-4 and keeps its transmit timestamp', () => {
    for (const v of [1, 2, 3, 4]) {
      const req = parseSntpRequest(request(v));
      expect(req.ok).toBe(true);
      if (req.ok) {
        expect(req.version).toBe(v);
        expect(req.transmit.equals(request(v).subarray(40, 48))).toBe(true);
      }
    }
  });

  it('drops short, oversized, non-client-mode and bad-version packets by reason', () => {
    expect(parseSntpRequest(Buffer.alloc(0))).toEqual({ ok: false, reason: 'short' });
    expect(parseSntpRequest(request().subarray(0, 47))).toEqual({ ok: false, reason: 'short' });
    expect(parseSntpRequest(Buffer.alloc(2000, 0x23), 1024)).toEqual({
      ok: false,
      reason: 'too_large',
    });
    for (const mode of [0, 1, 2, 4, 5, 6, 7]) {
      expect(parseSntpRequest(request(4, mode))).toEqual({ ok: false, reason: 'not_client' });
    }
    for (const v of [0, 5, 7]) {
      expect(parseSntpRequest(request(v))).toEqual({ ok: false, reason: 'bad_version' });
    }
  });

  it('accepts a request with extension fields or a MAC up to the size limit (first 48 bytes read)', () => {
    const withMac = Buffer.concat([request(), Buffer.alloc(20, 0xaa)]);
    expect(parseSntpRequest(withMac, 1024).ok).toBe(true);
    expect(parseSntpRequest(withMac, 68).ok).toBe(true); // sntpMaxPacketBytes edge: exactly
    expect(parseSntpRequest(withMac, 67)).toEqual({ ok: false, reason: 'too_large' });
  });
});

describe('buildSntpReply', () => {
  it('answers LI 0, the same version, mode 4, stratum 10 LOCL, originate = client transmit', () => {
    const req = parseSntpRequest(request(3, 3, 1_600_000_000_000));
    if (!req.ok) throw new Error('request refused');
    const received = 1_700_000_000_000.5;
    const sent = 1_700_000_000_001.25;
    const reply = buildSntpReply(req, received, sent);
    expect(reply.length).toBe(48);
    expect(reply[0]! >> 6).toBe(0);
    expect((reply[0]! >> 3) & 7).toBe(3);
    expect(reply[0]! & 7).toBe(4);
    expect(reply[1]).toBe(SNTP_STRATUM);
    expect(reply.subarray(12, 16).toString('ascii')).toBe('LOCL');
    expect(reply.subarray(24, 32).equals(request(3, 3, 1_600_000_000_000).subarray(40, 48))).toBe(
      true,
    );
    expect(Math.abs(readNtpTime(reply, 32) - received)).toBeLessThan(0.001);
    expect(Math.abs(readNtpTime(reply, 40) - sent)).toBeLessThan(0.001);
    // A reference time that is not zero: chrony takes zero as "never synchronized".
    expect(reply.readUInt32BE(16)).not.toBe(0);
  });
});

describe('sntpHandler', () => {
  it('answers requests from the clock and counts drops without replying', () => {
    const counters: SntpCounters = { answered: 0, dropped: {} };
    const handle = sntpHandler(counters, 1024, () => 1_750_000_000_000);
    const replies: Buffer[] = [];
    const from = { address: '127.0.0.1', port: 1, family: 'IPv4' as const, size: 48 };
    void handle(request(), from, (b) => replies.push(b));
    void handle(Buffer.from('hello'), from, (b) => replies.push(b));
    void handle(request(4, 4), from, (b) => replies.push(b));
    expect(replies).toHaveLength(1);
    expect(readNtpTime(replies[0]!, 40)).toBe(1_750_000_000_000);
    expect(counters).toEqual({ answered: 1, dropped: { short: 1, not_client: 1 } });
  });
});
