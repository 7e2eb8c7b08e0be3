import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RawDevice,
  deviceUrl,
  openNotify,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject, JsonObject } from '../../../src/shared/types';

describe('device session steps (PROTOCOL.md 1)', () => {
  let t: TestHub;
  beforeEach(async () => {
    t = await startTestHub();
  });
  afterEach(async () => {
    await t.stop();
  });

  it('marks online, calls Sys.GetInfo, stores reported.ota, adopts public_key, pushes the delta, in that order', async () => {
    const dev = await t.createDevice({ name: 'lamp' });
    const r = await t.api('POST', `/api/v2/devices/${dev.id}/shadow`, {
      state: { desired: { led: 'on' } },
    });
    expect(r.status).toBe(200);
    const notify = await openNotify(t);

    const d = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    const online = await notify.next((n) => n.name === 'online' && n.id === dev.id);
    expect(online.data).toEqual({ online: true });

    const getInfo = await d.call('Sys.GetInfo');
    expect(getInfo['src']).toBe(`$sys/${dev.id}`);
    expect(getInfo).not.toHaveProperty('dst');
    expect(getInfo).not.toHaveProperty('jsonrpc');
    expect(typeof getInfo['id']).toBe('number');
    const utc = (getInfo['params'] as { utc_time: number }).utc_time;
    expect(Math.abs(utc - Date.now() / 1000)).toBeLessThan(5);
    // Shadow.Delta must wait for the GetInfo reply.
    expect(d.frames.some((f) => f['method'] === 'Shadow.Delta')).toBe(false);
    d.reply(getInfo, {
      fw_version: '2.1',
      arch: 'esp32',
      fw_id: 'abc',
      app: 'demo',
      public_key: 'PK1',
    });

    const delta = await d.call('Shadow.Delta');
    expect(delta['params']).toMatchObject({
      state: { led: 'on' },
      version: expect.any(Number),
      timestamp: expect.any(Number),
    });

    const got = await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`);
    expect(got.body.online).toBe(true);
    expect(got.body.shadow.state.reported['online']).toBe(true);
    expect(got.body.shadow.state.reported['ota']).toEqual({
      fw_version: '2.1',
      arch: 'esp32',
      fw_id: 'abc',
      app: 'demo',
      public_key: 'PK1',
    });
    expect(got.body.acl.public_key).toBe('PK1');

    // Order of notifications: online, then rpc.in.Sys.GetInfo, then rpc.in.Shadow.Delta.
    const names = notify.events.filter((n) => n.id === dev.id).map((n) => n.name);
    const order = ['online', 'rpc.in.Sys.GetInfo', 'rpc.in.Shadow.Delta'].map((n) =>
      names.indexOf(n),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    d.close();
    await notify.next((n) => n.name === 'offline' && n.id === dev.id);
    const after = await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`);
    expect(after.body.online).toBe(false);
    expect(after.body.shadow.state.reported['online']).toBe(false);
    notify.ws.close();
  });

  it('replaces reported.ota wholesale and keeps an existing public_key', async () => {
    const dev = await t.createDevice();
    await t.api('POST', `/api/v2/devices/${dev.id}`, { acl: { public_key: 'MINE' } });
    const infos: JsonObject[] = [
      { fw_version: '1', extra: 1 },
      { fw_version: '2', public_key: 'OTHER' },
    ];
    for (const info of infos) {
      const d = await RawDevice.connect(deviceUrl(t), {
        headers: { authorization: `Bearer ${dev.token}` },
      });
      await d.answerGetInfo(info);
      await waitFor(async () => {
        const g = await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`);
        return JSON.stringify(g.body.shadow.state.reported['ota']) === JSON.stringify(info);
      });
      d.close();
      await d.closed();
    }
    const g = await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`);
    expect(g.body.acl.public_key).toBe('MINE');
  });

  it('fails pending calls at once when the device disconnects', async () => {
    const dev = await t.createDevice();
    const d = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    await d.answerGetInfo();
    await waitFor(() => t.hub.services().gateway.isOnline(dev.id));
    const started = Date.now();
    const pending = t.api('POST', `/api/v2/devices/${dev.id}/rpc/Slow.Method`, { a: 1 });
    await d.call('Slow.Method');
    d.ws.terminate();
    const r = await pending;
    expect(r.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
