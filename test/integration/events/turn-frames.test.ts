/**
 * The management streams' shared frames (turn-frames.ts): every notification of a turn framed once
 * into one buffer, each stream written its part. Checked with a real client (ws parses the frames,
 * all three length encodings of RFC 6455), and with members that join mid-turn or see a
 * notification published from inside another's delivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationBus } from '../../../src/main/events/notification-bus';
import {
  TurnFrames,
  frameHeaderSize,
  writeFrameHeader,
  type TurnMember,
} from '../../../src/main/events/turn-frames';
import { openNotify, startTestHub, waitFor, type TestHub } from '../../support/hub-harness';

/** The text payloads of a buffer of server frames (FIN, opcode 1, unmasked). */
function payloads(buf: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < buf.length) {
    expect(buf[at]).toBe(0x81);
    const l7 = (buf[at + 1] ?? 0) & 0x7f;
    expect((buf[at + 1] ?? 0) & 0x80).toBe(0); // no mask from a server
    let len = l7;
    let head = 2;
    if (l7 === 126) {
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (l7 === 127) {
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    out.push(buf.subarray(at + head, at + head + len).toString('utf8'));
    at += head + len;
  }
  return out;
}

function member(): TurnMember & { got: Buffer[] } {
  const got: Buffer[] = [];
  return { start: -1, end: -1, got, flush: (b) => void got.push(Buffer.from(b)) };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('frame headers', () => {
  it('uses the shortest length encoding at each boundary', () => {
    for (const [len, size] of [
      [0, 2],
      [125, 2],
      [126, 4],
      [65_535, 4],
      [65_536, 10],
    ] as const) {
      expect(frameHeaderSize(len)).toBe(size);
      const buf = Buffer.alloc(size + len, 0x61);
      expect(writeFrameHeader(buf, 0, len)).toBe(size);
      expect(payloads(buf)).toEqual(['a'.repeat(len)]);
    }
  });
});

describe('TurnFrames with a bus', () => {
  it('gives each member one write per turn, from its first notification on', async () => {
    const bus = new NotificationBus();
    const turn = new TurnFrames(bus);
    const a = member();
    const b = member();
    turn.join(a);
    bus.subscribe((p) => turn.received(a, p));
    bus.publish({ name: 'one', id: 'd', data: 1 });
    // b subscribes mid-turn: it gets only what comes after.
    turn.join(b);
    bus.subscribe((p) => turn.received(b, p));
    bus.publish({ name: 'two', id: 'd', data: 'x'.repeat(70_000) });
    bus.publish({ name: 'three', id: 'd', data: null });
    await tick();
    expect(a.got).toHaveLength(1);
    expect(
      payloads(a.got[0] as Buffer).map((t) => (JSON.parse(t) as { name: string }).name),
    ).toEqual(['one', 'two', 'three']);
    expect(b.got).toHaveLength(1);
    expect(
      payloads(b.got[0] as Buffer).map((t) => (JSON.parse(t) as { name: string }).name),
    ).toEqual(['two', 'three']);
    // A quiet turn writes nothing; the next busy one starts afresh.
    await tick();
    bus.publish({ name: 'four', id: 'd', data: 4 });
    await tick();
    expect(a.got.map((g) => payloads(g).length)).toEqual([3, 1]);
    turn.close();
  });

  it('keeps publish order when a subscriber publishes from inside a delivery', async () => {
    const bus = new NotificationBus();
    const turn = new TurnFrames(bus);
    const a = member();
    turn.join(a);
    // Between the collector and the member: reacts to `first` with `nested`, synchronously.
    bus.subscribe((p) => {
      if (p.n.name === 'first') bus.publish({ name: 'nested', id: 'd', data: 0 });
    });
    bus.subscribe((p) => turn.received(a, p));
    bus.publish({ name: 'first', id: 'd', data: 0 });
    await tick();
    expect(
      payloads(a.got[0] as Buffer).map((t) => (JSON.parse(t) as { name: string }).name),
    ).toEqual(['first', 'nested']);
    turn.close();
  });
});

describe('management streams share their frames', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('two streams receive the same burst, every message whole and in order', async () => {
    const s1 = await openNotify(t);
    const s2 = await openNotify(t);
    const bus = t.hub.services().bus;
    const sizes = [0, 10, 125, 126, 1000, 65_535, 70_000];
    // One turn: all framed into one buffer, written once to each stream.
    for (const [i, n] of sizes.entries()) {
      bus.publish({ name: 'burst', id: 'd', data: { i, pad: 'y'.repeat(n) } });
    }
    const burst = (s: typeof s1): unknown[] => s.events.filter((e) => e.name === 'burst');
    await waitFor(() => burst(s1).length === sizes.length && burst(s2).length === sizes.length);
    const expected = sizes.map((n, i) => ({
      name: 'burst',
      id: 'd',
      data: { i, pad: 'y'.repeat(n) },
    }));
    expect(burst(s1)).toEqual(expected);
    expect(burst(s2)).toEqual(expected);
    s1.ws.close();
    s2.ws.close();
  });
});
