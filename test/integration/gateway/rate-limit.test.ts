import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawDevice,
  deviceUrl,
  sleep,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject } from '../../../src/shared/types';

/**
 * Issue 7 item 17: a per-device rate limit, so that one flooding device cannot starve the rest.
 * Small limits and a short abuse window keep this quick; the defaults are in config.ts.
 */
describe('per-device rate limit (frames/s, bytes/s)', () => {
  const FPS = 50;
  let t: TestHub;
  let floodDev: DeviceObject;
  let calmDev: DeviceObject;

  beforeAll(async () => {
    t = await startTestHub({
      limits: {
        deviceFramesPerSecond: FPS,
        deviceFrameBurst: FPS,
        deviceBytesPerSecond: 64 * 1024,
        deviceByteBurst: 64 * 1024,
      },
      timings: { rateLimitDisconnectMs: 2500 },
    });
    floodDev = await t.createDevice({ name: 'flooder' });
    calmDev = await t.createDevice({ name: 'calm' });
  });
  afterAll(async () => {
    await t.stop();
  });

  function connect(dev: DeviceObject): Promise<RawDevice> {
    return RawDevice.connect(deviceUrl(t), { headers: { authorization: `Bearer ${dev.token}` } });
  }

  /**
   * Sends Log notifications as fast as the socket takes them, until stopped or closed. When the
   * hub stops reading (backpressure) the socket's buffer fills and this waits too.
   */
  function flood(d: RawDevice): { stop(): void; sent(): number } {
    let sent = 0;
    let on = true;
    const pump = (): void => {
      if (!on || d.ws.readyState !== d.ws.OPEN) return;
      if (d.ws.bufferedAmount < 64 * 1024) {
        for (let i = 0; i < 50; i++) {
          d.send({ method: 'Log', params: { fd: 1, data: `line ${sent}\n`, seq: sent } });
          sent++;
        }
      }
      setTimeout(pump, 2);
    };
    pump();
    return { stop: () => (on = false), sent: () => sent };
  }

  it('a device within its limit is untouched', async () => {
    const calm = await connect(calmDev);
    await calm.answerGetInfo();
    const stats = t.hub.services().gateway.stats;
    const before = stats.dropped.get('rate_limited') ?? 0;
    await sleep(100); // the Sys.GetInfo answer took a token: let the bucket fill up again
    // Exactly the burst at once, then the refill rate: nothing is dropped.
    for (let i = 0; i < FPS; i++) calm.send({ id: 1000 + i, method: 'Dash.Heartbeat' });
    await waitFor(() => calm.frames.filter((f) => Number(f['id']) >= 1000).length === FPS);
    expect(stats.dropped.get('rate_limited') ?? 0).toBe(before);
    calm.close();
    await calm.closed();
  });

  it('delivers a reply the hub waits for although the device is over its limit', async () => {
    const stats = t.hub.services().gateway.stats;
    const rogue = await connect(floodDev);
    await rogue.answerGetInfo();
    await sleep(100); // a full bucket again
    const droppedBefore = stats.dropped.get('rate_limited') ?? 0;
    const pending = t.api('POST', `/api/v2/devices/${floodDev.id}/rpc/FS.Get`, { filename: 'x' });
    const call = await rogue.call('FS.Get');
    // The whole budget in Log lines, then the answer: it finds the bucket empty.
    for (let i = 0; i < FPS; i++) rogue.send({ method: 'Log', params: { fd: 1, data: 'x' } });
    rogue.reply(call, { data: 'AAAA', left: 0 });
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: 'AAAA', left: 0 });
    expect(stats.limitedReplies).toBe(1);
    expect(stats.dropped.get('rate_limited') ?? 0).toBe(droppedBefore);
    // The next ordinary frame over the budget is dropped.
    rogue.send({ id: 5, method: 'Dash.Heartbeat' });
    await waitFor(() => (stats.dropped.get('rate_limited') ?? 0) === droppedBefore + 1);
    rogue.close();
    await rogue.closed();
  });

  it('a flood is dropped and counted, its socket paused, and it is disconnected; a calm device is untouched', async () => {
    const stats = t.hub.services().gateway.stats;
    const calm = await connect(calmDev);
    await calm.answerGetInfo();
    const rogue = await connect(floodDev);
    await rogue.answerGetInfo();
    const rogueClosed = rogue.closed();
    const droppedBefore = stats.dropped.get('rate_limited') ?? 0;
    const inBefore = stats.framesIn;
    const startedAt = performance.now();
    const f = flood(rogue);
    await waitFor(() => (stats.dropped.get('rate_limited') ?? 0) > droppedBefore);

    // The calm device is served as usual throughout, and none of its frames are dropped.
    for (let i = 0; i < 5; i++) {
      const p = t.api('POST', `/api/v2/devices/${calmDev.id}/rpc/Echo`, { i });
      calm.reply(await calm.call('Echo'), { i });
      calm.frames.length = 0;
      expect((await p).body).toEqual({ i });
      calm.send({ id: 2000 + i, method: 'Dash.Heartbeat' });
      expect((await calm.next((fr) => fr['id'] === 2000 + i))['result']).toBe(true);
    }

    // Kept over the limit for rateLimitDisconnectMs: disconnected with 1008 and a reason.
    const { code, reason } = await rogueClosed;
    f.stop();
    const tookMs = performance.now() - startedAt;
    expect(code).toBe(1008);
    expect(reason).toBe('rate limit exceeded');
    expect(tookMs).toBeGreaterThanOrEqual(2400);
    expect(tookMs).toBeLessThan(10_000);
    expect(stats.disconnects.get('rate_limited')).toBe(1);
    expect(stats.dropped.get('rate_limited') ?? 0).toBeGreaterThan(droppedBefore + 2);
    // What the hub read beyond its budget was dropped; it read only part of what was sent
    // (the socket was paused between reads, the rest waited in the flooder's own buffers).
    const read = stats.framesIn - inBefore;
    expect(read).toBeLessThan(f.sent() / 2);
    await waitFor(() => !t.hub.services().gateway.isOnline(floodDev.id));

    // The calm device is still connected and online.
    await sleep(100);
    expect(calm.ws.readyState).toBe(calm.ws.OPEN);
    expect(t.hub.services().gateway.isOnline(calmDev.id)).toBe(true);
    calm.close();
    await calm.closed();
  });
});
