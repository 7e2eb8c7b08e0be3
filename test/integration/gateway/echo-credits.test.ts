/**
 * A notification a call of ours provokes passes the per-device rate limit (device-session.ts
 * `echoCredits`), also when the device sends it BEFORE the reply, as the Arduino library does with
 * its `State.Set` (mDashNotify, then mg_rpc_ok; PROTOCOL.md 6). Dropped, it was lost and paused the
 * socket, which held up the reply behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawDevice,
  connectOnline,
  openNotify,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject } from '../../../src/shared/types';

describe('echo credits for notifications provoked by our calls', () => {
  let t: TestHub;
  let dev: DeviceObject;
  let raw: RawDevice;

  beforeAll(async () => {
    t = await startTestHub({
      // Three frames, then one a second: the device is over its limit right after the flood.
      limits: { deviceFramesPerSecond: 1, deviceFrameBurst: 3 },
    });
    dev = await t.createDevice({ name: 'echo' });
    raw = await connectOnline(t, dev);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('the State.Set sent before the reply passes, is published, and the reply is not held up', async () => {
    const stats = t.hub.services().gateway.stats;
    const notify = await openNotify(t);
    // Spend the burst (the Sys.GetInfo reply took a token already).
    for (let i = 0; i < 3; i++) raw.send({ method: 'Log', params: { fd: 1, data: `l${i}\n` } });
    await waitFor(() => notify.events.filter((n) => n.name === 'rpc.out.Log').length >= 2);
    const dropped = stats.droppedTotal();
    const pending = t.api('POST', `/api/v2/devices/${dev.id}/rpc/OTA.Write`, {
      offset: 0,
      data: 'AAAA',
    });
    const call = await raw.call('OTA.Write');
    const t0 = performance.now();
    raw.send({ method: 'State.Set', params: { ota: { percent: 42 } } });
    raw.reply(call, { queued: 3 });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ queued: 3 });
    expect(performance.now() - t0).toBeLessThan(150); // no read pause (up to 1 s) in between
    await waitFor(() => notify.events.some((n) => n.name === 'rpc.out.State.Set'));
    expect(notify.events.find((n) => n.name === 'rpc.out.State.Set')?.data).toEqual({
      ota: { percent: 42 },
    });
    expect(stats.droppedTotal()).toBe(dropped);
    notify.ws.close();
  });
});
