/**
 * The management notification stream `/api/v2/notify` (PROTOCOL.md 7): the key is checked before
 * the upgrade, every notification reaches every subscriber, and a subscriber that stops reading
 * is dropped instead of growing the hub's memory while the others keep receiving.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  RawDevice,
  deviceUrl,
  openNotify,
  sleep,
  startTestHub,
  upgradeStatus,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject, Notification } from '../../../src/shared/types';

const MAX_BUFFERED = 64 * 1024;

describe('management notification stream (PROTOCOL.md 7)', () => {
  let t: TestHub;
  let dev: DeviceObject;
  let device: RawDevice;

  beforeAll(async () => {
    // The device below floods on purpose to fill a subscriber's buffer: its rate limit is off
    // (0) so this suite tests the notify stream, not the gateway's limiter.
    t = await startTestHub({
      notify: { maxBufferedBytes: MAX_BUFFERED },
      limits: { deviceFramesPerSecond: 0, deviceBytesPerSecond: 0 },
    });
    dev = await t.createDevice({ id: 'chatty' });
  });
  afterAll(async () => {
    device?.close();
    await t.stop();
  });

  it('refuses a missing or wrong key with 401 before upgrading; accepts header or access_token', async () => {
    const url = `${t.ws}/api/v2/notify`;
    expect(await upgradeStatus(url)).toBe(401);
    expect(await upgradeStatus(`${url}?access_token=wrong`)).toBe(401);
    expect(await upgradeStatus(url, { authorization: 'Bearer wrong' })).toBe(401);
    // A device password is not an API key.
    expect(await upgradeStatus(`${url}?access_token=${dev.token}`)).toBe(401);
    expect(await upgradeStatus(`${url}?access_token=${t.key}`)).toBe(101);
    expect(await upgradeStatus(url, { authorization: `Bearer ${t.key}` })).toBe(101);
  });

  it('delivers lifecycle and rpc notifications as {name,id,data} to every subscriber', async () => {
    const a = await openNotify(t);
    const b = await openNotify(t);
    device = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    await device.answerGetInfo();
    device.send({ method: 'Hello', params: { n: 1 } });
    for (const s of [a, b]) {
      const online = await s.next((n) => n.name === 'online' && n.id === dev.id);
      expect(online.data).toEqual({ online: true });
      await s.next((n) => n.name === 'rpc.in.Sys.GetInfo' && n.id === dev.id);
      const hello = await s.next((n) => n.name === 'rpc.out.Hello');
      expect(hello).toEqual({ name: 'rpc.out.Hello', id: dev.id, data: { n: 1 } });
    }
    // What a client sends on the stream is ignored; the stream stays open.
    a.ws.send('{"method":"anything"}');
    await sleep(50);
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    a.ws.close();
    b.ws.close();
  });

  it('drops a subscriber that stops reading; the others keep receiving everything', async () => {
    const fast = await openNotify(t);
    const slow = await openNotify(t);
    const slowClosed = new Promise<number>((resolve) => slow.ws.once('close', (c) => resolve(c)));
    // Stop reading: the hub's send buffer for this subscriber can only grow.
    (slow.ws as unknown as { _socket: Socket })._socket.pause();
    const endpoint = t.hub.services().notify;
    const droppedBefore = endpoint.dropped;
    const subscribersBefore = t.hub.services().bus.subscriberCount;

    // Device frames of ~7 KB, each a notification of that size; paced by the fast subscriber so
    // only the slow one falls behind. Kernel socket buffers take a few MB before the hub's
    // own buffer grows, so send until the drop happens (bounded).
    const blob = 'x'.repeat(7 * 1024);
    const isBlob = (n: Notification): boolean => n.name === 'rpc.out.Blob';
    let sent = 0;
    const deadline = Date.now() + 15_000;
    while (endpoint.dropped === droppedBefore) {
      if (Date.now() > deadline) throw new Error(`slow subscriber not dropped after ${sent}`);
      for (let i = 0; i < 20; i++) device.send({ method: 'Blob', params: { i: sent++, blob } });
      await waitFor(() => fast.events.filter(isBlob).length === sent, 5000, 'the fast subscriber');
    }
    expect(endpoint.dropped).toBe(droppedBefore + 1);
    expect(t.hub.services().bus.subscriberCount).toBe(subscribersBefore - 1);

    // The fast subscriber got every notification, in order, and is still connected.
    for (let i = 0; i < 20; i++) device.send({ method: 'Blob', params: { i: sent++, blob } });
    await waitFor(() => fast.events.filter(isBlob).length === sent, 5000, 'the fast subscriber');
    const seen = fast.events.filter(isBlob).map((n) => (n.data as { i: number }).i);
    expect(seen).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(fast.ws.readyState).toBe(WebSocket.OPEN);

    // The slow one is closed by the hub (1013, or cut off if it never reads the close frame).
    (slow.ws as unknown as { _socket: Socket })._socket.resume();
    const code = await slowClosed;
    expect([1013, 1006]).toContain(code);
    expect(slow.events.filter(isBlob).length).toBeLessThan(sent);

    // The hub is fine: REST works and a new subscriber receives.
    const again = await openNotify(t);
    await t.api('PUT', `/api/v2/devices/${dev.id}`, { name: 'still here' });
    await again.next((n) => n.name === 'updated' && n.id === dev.id);
    again.ws.close();
    fast.ws.close();
  });

  it('closes the streams when the hub stops', async () => {
    const t2 = await startTestHub();
    const s = await openNotify(t2);
    const closed = new Promise<void>((resolve) => s.ws.once('close', () => resolve()));
    await t2.stop();
    await closed;
  });
});
