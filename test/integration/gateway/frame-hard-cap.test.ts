/**
 * The hard frame cap (config `limits.maxFrameHardBytes`, 4 MB by default): a frame up to the cap
 * is read, counted as `too_large` and dropped with the session kept (PROTOCOL.md 2); one byte
 * more closes the socket with 1009 so a device cannot make the hub buffer without bound.
 * Tested with the default, not a shrunken cap, so a change of the default shows here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../src/main/config';
import {
  RawDevice,
  deviceUrl,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';

const CAP = DEFAULT_LIMITS.maxFrameHardBytes;

/** A text frame of exactly `bytes` bytes: a JSON notification padded with ASCII. */
function frameOf(bytes: number): string {
  const head = '{"method":"Big","params":"';
  const tail = '"}';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

describe('hard frame cap (limits.maxFrameHardBytes)', () => {
  let t: TestHub;

  beforeAll(async () => {
    // The per-device rate limit is off so the frame size alone decides what happens.
    t = await startTestHub({ limits: { deviceFramesPerSecond: 0, deviceBytesPerSecond: 0 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  async function online(name: string): Promise<RawDevice> {
    const dev = await t.createDevice({ name });
    const raw = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    await raw.answerGetInfo();
    return raw;
  }

  it('is 4 MB by default', () => {
    expect(CAP).toBe(4 * 1024 * 1024);
  });

  it('drops and counts a frame of exactly the cap; the session stays open and usable', async () => {
    const raw = await online('at-cap');
    const stats = t.hub.services().gateway.stats;
    const before = stats.dropped.get('too_large') ?? 0;
    raw.send(frameOf(CAP));
    await waitFor(() => (stats.dropped.get('too_large') ?? 0) === before + 1, 10_000);
    expect(raw.ws.readyState).toBe(raw.ws.OPEN);
    raw.send({ method: 'Shadow.Update', id: 7, params: { state: { reported: { ok: 1 } } } });
    await waitFor(() => raw.frames.some((f) => f['id'] === 7 && f['result'] === true));
    raw.close();
  });

  it('closes the socket with 1009 for a frame one byte over the cap; the hub stays up', async () => {
    const raw = await online('over-cap');
    const closed = new Promise<number>((resolve) => raw.ws.once('close', (code) => resolve(code)));
    raw.send(frameOf(CAP + 1));
    expect(await closed).toBe(1009);
    const res = await t.api('GET', '/api/v2/hub');
    expect(res.status).toBe(200);
  });
});
