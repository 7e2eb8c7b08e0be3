import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SlipDecoder, slipEncode, type SlipEvent } from '../../../../src/main/flasher/esp/slip';

const frames = (events: SlipEvent[]): number[][] =>
  events.flatMap((e) => (e.kind === 'frame' ? [Array.from(e.data)] : []));

describe('slipEncode', () => {
  it('wraps a packet in C0 and escapes C0 and DB (FLASHING.md 2.1)', () => {
    expect(Array.from(slipEncode(Uint8Array.from([0x01, 0xc0, 0x02, 0xdb, 0x03])))).toEqual([
      0xc0, 0x01, 0xdb, 0xdc, 0x02, 0xdb, 0xdd, 0x03, 0xc0,
    ]);
  });

  it('encodes an empty packet as two delimiters', () => {
    expect(Array.from(slipEncode(new Uint8Array(0)))).toEqual([0xc0, 0xc0]);
  });
});

describe('SlipDecoder', () => {
  it('round-trips random packets fed one byte at a time', () => {
    const packets = Array.from({ length: 20 }, (_, i) => new Uint8Array(randomBytes(1 + i * 37)));
    const wire = Buffer.concat(packets.map((p) => slipEncode(p)));
    const dec = new SlipDecoder();
    const out: number[][] = [];
    for (const b of wire) out.push(...frames(dec.push(Uint8Array.of(b))));
    expect(out).toEqual(packets.map((p) => Array.from(p)));
  });

  it('decodes back-to-back frames and ignores empty ones', () => {
    const dec = new SlipDecoder();
    const ev = dec.push(
      Uint8Array.from([0xc0, 0xc0, 0x01, 0xc0, 0xc0, 0x02, 0x03, 0xc0, 0xc0, 0xc0]),
    );
    expect(frames(ev)).toEqual([[0x01], [0x02, 0x03]]);
  });

  it('reports bytes outside frames as noise and still decodes the frame after them', () => {
    const dec = new SlipDecoder();
    const banner = new TextEncoder().encode('ets Jun  8 2016\r\nwaiting for download\r\n');
    const ev = dec.push(Buffer.concat([banner, slipEncode(Uint8Array.of(7, 8))]));
    expect(ev[0]).toEqual({ kind: 'noise', data: banner });
    expect(frames(ev)).toEqual([[7, 8]]);
  });

  it('keeps a frame split across chunks, including a split escape', () => {
    const dec = new SlipDecoder();
    const wire = slipEncode(Uint8Array.from([0xaa, 0xc0, 0xbb]));
    // c0 aa db | dc bb c0
    expect(dec.push(wire.subarray(0, 3))).toEqual([]);
    expect(frames(dec.push(wire.subarray(3)))).toEqual([[0xaa, 0xc0, 0xbb]]);
  });

  it('drops a frame with an invalid escape and recovers on the next frame', () => {
    const dec = new SlipDecoder();
    const ev = dec.push(Uint8Array.from([0xc0, 0x01, 0xdb, 0x42, 0x02, 0xc0, 0xc0, 0x09, 0xc0]));
    expect(ev.find((e) => e.kind === 'error')).toEqual({
      kind: 'error',
      reason: 'bad_escape',
      discarded: 1,
    });
    expect(frames(ev)).toEqual([[0x09]]);
  });

  it('drops frames longer than maxFrame without growing past it', () => {
    const dec = new SlipDecoder({ maxFrame: 8 });
    const ev = dec.push(
      Buffer.concat([slipEncode(new Uint8Array(20)), slipEncode(Uint8Array.of(1, 2))]),
    );
    expect(ev.some((e) => e.kind === 'error' && e.reason === 'too_long')).toBe(true);
    expect(frames(ev)).toEqual([[1, 2]]);
  });

  it('reset() forgets a partial frame', () => {
    const dec = new SlipDecoder();
    dec.push(Uint8Array.from([0xc0, 0x01, 0x02]));
    dec.reset();
    expect(frames(dec.push(Uint8Array.from([0x03, 0xc0, 0x04, 0xc0])))).toEqual([[0x04]]);
  });
});
