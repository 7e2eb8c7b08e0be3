/**
 * `/api/v2/devices` CRUD (PROTOCOL.md 4 management table) and the lifecycle notifications it
 * emits on `/api/v2/notify` (PROTOCOL.md 7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNotify, startTestHub, type TestHub } from '../../support/hub-harness';
import type { DeviceObject, Notification } from '../../../src/shared/types';

type Stream = Awaited<ReturnType<typeof openNotify>>;

const DEVICE_KEYS = ['acl', 'created', 'id', 'last_seen', 'name', 'online', 'shadow', 'token'];

function expectDeviceShape(d: DeviceObject): void {
  expect(Object.keys(d).sort()).toEqual(DEVICE_KEYS);
  expect(typeof d.id).toBe('string');
  expect(typeof d.name).toBe('string');
  expect(typeof d.token).toBe('string');
  expect(d.token.length).toBeGreaterThanOrEqual(16);
  expect(typeof d.online).toBe('boolean');
  expect(typeof d.created).toBe('number');
  expect(typeof d.last_seen).toBe('number');
  expect(Object.keys(d.shadow).sort()).toEqual(['state', 'tags', 'timestamp', 'version']);
  expect(Object.keys(d.shadow.state).sort()).toEqual(['delta', 'desired', 'reported']);
}

const isFor = (name: string, id: string) => (n: Notification) => n.name === name && n.id === id;

describe('devices CRUD (PROTOCOL.md 4)', () => {
  let t: TestHub;
  let notify: Stream;

  beforeAll(async () => {
    t = await startTestHub();
    notify = await openNotify(t);
  });
  afterAll(async () => {
    notify.ws.close();
    await t.stop();
  });

  async function count(): Promise<number> {
    const r = await t.api<DeviceObject[]>('GET', '/api/v2/devices');
    expect(r.status).toBe(200);
    return r.body.length;
  }

  it('creates a device without a body, with a random id, its name defaulting to the id', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await t.api<DeviceObject>('POST', '/api/v2/devices');
    expect(r.status).toBe(200);
    const d = r.body;
    expectDeviceShape(d);
    expect(d.id).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
    expect(d.name).toBe(d.id);
    expect(d.online).toBe(false);
    expect(d.acl).toEqual({});
    expect(d.last_seen).toBe(0);
    expect(d.created).toBeGreaterThanOrEqual(before);
    expect(d.created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(d.shadow.state).toEqual({ desired: {}, reported: {}, delta: {} });
    expect(d.shadow.tags).toEqual({});
    expect(d.shadow.version).toBe(0);
    const created = await notify.next(isFor('created', d.id));
    // The device object without its password (README "Notifications").
    const { token: _password, ...withoutToken } = d;
    expect(created.data).toEqual(withoutToken);
  });

  it('creates devices with a name, an id, or both; ids and tokens are unique', async () => {
    const a = await t.api<DeviceObject>('POST', '/api/v2/devices', { name: 'Kitchen' });
    expect(a.status).toBe(200);
    expect(a.body.name).toBe('Kitchen');
    expect(a.body.id).not.toBe('Kitchen');
    const b = await t.api<DeviceObject>('POST', '/api/v2/devices', { id: 'dev-b.1_x' });
    expect(b.status).toBe(200);
    expect(b.body.id).toBe('dev-b.1_x');
    expect(b.body.name).toBe('dev-b.1_x');
    const c = await t.api<DeviceObject>('POST', '/api/v2/devices', { id: 'dev-c', name: 'Cellar' });
    expect(c.body).toMatchObject({ id: 'dev-c', name: 'Cellar' });
    const e = await t.api<DeviceObject>('POST', '/api/v2/devices', {});
    expect(e.status).toBe(200);
    const all = [a.body, b.body, c.body, e.body];
    expect(new Set(all.map((d) => d.id)).size).toBe(4);
    expect(new Set(all.map((d) => d.token)).size).toBe(4);
  });

  it('refuses a duplicate id with 409 and leaves the existing device as it was', async () => {
    const first = await t.createDevice({ id: 'dup-1', name: 'original' });
    const n = await count();
    const r = await t.api<{ error: { code: number } }>('POST', '/api/v2/devices', {
      id: 'dup-1',
      name: 'impostor',
    });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ error: { code: 4092, message: expect.any(String) } });
    expect(await count()).toBe(n);
    const still = await t.api<DeviceObject>('GET', '/api/v2/devices/dup-1');
    expect(still.body).toEqual(first);
  });

  it.each([
    ['a space', { id: 'has space' }],
    ['a slash', { id: 'a/b' }],
    ['65 characters', { id: 'x'.repeat(65) }],
    ['an empty id', { id: '' }],
    ['a numeric id', { id: 42 }],
    ['an empty name', { name: '' }],
    ['a numeric name', { name: 5 }],
    ['an array body', [1, 2]],
  ])('refuses %s with 400 and creates nothing', async (_what, body) => {
    const n = await count();
    const r = await t.api<{ error: { code: number; message: string } }>(
      'POST',
      '/api/v2/devices',
      body,
    );
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(4002);
    expect(r.body.error.message.length).toBeGreaterThan(0);
    expect(await count()).toBe(n);
  });

  it('lists every device, oldest first, in the device object shape', async () => {
    const x = await t.createDevice({ id: 'list-x' });
    const y = await t.createDevice({ id: 'list-y' });
    const r = await t.api<DeviceObject[]>('GET', '/api/v2/devices');
    expect(r.status).toBe(200);
    for (const d of r.body) expectDeviceShape(d);
    const ids = r.body.map((d) => d.id);
    expect(ids.indexOf('list-x')).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf('list-x')).toBeLessThan(ids.indexOf('list-y'));
    expect(r.body.find((d) => d.id === 'list-x')).toEqual(x);
    expect(r.body.find((d) => d.id === 'list-y')).toEqual(y);
  });

  it('gets one device, and 404s an unknown one with the JSON error shape', async () => {
    const d = await t.createDevice({ id: 'get-me', name: 'G' });
    const r = await t.api<DeviceObject>('GET', '/api/v2/devices/get-me');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(d);
    for (const [method, body] of [
      ['GET', undefined],
      ['POST', { name: 'x' }],
      ['PUT', { name: 'x' }],
      ['DELETE', undefined],
    ] as const) {
      const u = await t.api(method, '/api/v2/devices/no-such', body);
      expect(u.status, method).toBe(404);
      expect(u.body, method).toEqual({ error: { code: 4041, message: expect.any(String) } });
    }
  });

  it('POST /devices/:id updates name, acl and shadow together and notifies `updated`', async () => {
    const d = await t.createDevice({ id: 'upd-1', name: 'before' });
    const acl = { public_key: 'pk', rpc: ['Sys.*'], shadow_read: ['state.reported'] };
    const r = await t.api<DeviceObject>('POST', '/api/v2/devices/upd-1', {
      name: 'after',
      acl,
      shadow: { state: { desired: { led: true } } },
    });
    expect(r.status).toBe(200);
    expectDeviceShape(r.body);
    expect(r.body.name).toBe('after');
    expect(r.body.acl).toEqual(acl);
    expect(r.body.token).toBe(d.token);
    expect(r.body.shadow.state.desired).toEqual({ led: true });
    expect(r.body.shadow.state.delta).toEqual({ led: true });
    expect(r.body.shadow.version).toBe(1);
    const got = await t.api<DeviceObject>('GET', '/api/v2/devices/upd-1');
    expect(got.body).toEqual(r.body);
    const n = await notify.next((x) => x.name === 'updated' && x.id === 'upd-1');
    expect((n.data as unknown as DeviceObject).name).toBe('after');
  });

  it.each([
    ['a non-object desired', { state: { desired: 5 } }],
    ['a stale version', { version: 99, state: { desired: { a: 1 } } }],
    ['an oversized shadow', { state: { desired: { big: 'x'.repeat(9000) } } }],
  ])('POST /devices/:id with %s changes nothing else either', async (_what, shadow) => {
    const id = `bad-shadow-${Math.random().toString(36).slice(2, 8)}`;
    await t.createDevice({ id, name: 'keep' });
    await t.api('POST', `/api/v2/devices/${id}`, { acl: { rpc: ['A'] } });
    const before = (await t.api<DeviceObject>('GET', `/api/v2/devices/${id}`)).body;
    const r = await t.api<{ error: { code: number } }>('POST', `/api/v2/devices/${id}`, {
      name: 'changed',
      acl: { rpc: ['B'] },
      shadow,
    });
    expect([400, 409, 413]).toContain(r.status);
    expect(r.body.error.code).toBeGreaterThan(0);
    const after = (await t.api<DeviceObject>('GET', `/api/v2/devices/${id}`)).body;
    expect(after).toEqual(before);
  });

  it('POST /devices/:id refuses wrong types naming the field, and an acl of the wrong shape', async () => {
    await t.createDevice({ id: 'types-1', name: 'keep' });
    for (const body of [{ name: 5 }, { acl: { rpc: 7 } }, { shadow: 'x' }, { name: '' }]) {
      const r = await t.api<{ error: { code: number; message: string } }>(
        'POST',
        '/api/v2/devices/types-1',
        body,
      );
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe(4002);
      const field = Object.keys(body)[0] ?? '';
      expect(r.body.error.message, JSON.stringify(body)).toContain(field);
    }
    expect((await t.api<DeviceObject>('GET', '/api/v2/devices/types-1')).body.name).toBe('keep');
  });

  it('PUT /devices/:id renames; it needs a name', async () => {
    await t.createDevice({ id: 'put-1', name: 'old' });
    const r = await t.api<DeviceObject>('PUT', '/api/v2/devices/put-1', { name: 'new name' });
    expect(r.status).toBe(200);
    expect(r.body.name).toBe('new name');
    expect((await t.api<DeviceObject>('GET', '/api/v2/devices/put-1')).body.name).toBe('new name');
    for (const body of [{}, { name: '' }, { name: 7 }, undefined]) {
      const bad = await t.api<{ error: { code: number } }>('PUT', '/api/v2/devices/put-1', body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
    expect((await t.api<DeviceObject>('GET', '/api/v2/devices/put-1')).body.name).toBe('new name');
  });

  it('DELETE returns true, then the device is gone (404) and `deleted` is notified', async () => {
    await t.createDevice({ id: 'del-1' });
    const n = await count();
    const r = await t.api('DELETE', '/api/v2/devices/del-1');
    expect(r.status).toBe(200);
    expect(r.body).toBe(true);
    expect(await count()).toBe(n - 1);
    expect((await t.api('GET', '/api/v2/devices/del-1')).status).toBe(404);
    expect((await t.api('DELETE', '/api/v2/devices/del-1')).status).toBe(404);
    expect((await t.api('GET', '/api/v2/devices/del-1/shadow')).status).toBe(404);
    const deleted = await notify.next(isFor('deleted', 'del-1'));
    expect(deleted.data).toEqual({ id: 'del-1' });
    // The id can be used again and gets a fresh device.
    const again = await t.createDevice({ id: 'del-1' });
    expect(again.shadow.version).toBe(0);
  });

  it('notifications arrive in the order of the changes, as {name,id,data} frames', async () => {
    await t.createDevice({ id: 'order-1' });
    await t.api('PUT', '/api/v2/devices/order-1', { name: 'o' });
    await t.api('DELETE', '/api/v2/devices/order-1');
    await notify.next(isFor('deleted', 'order-1'));
    const mine = notify.events.filter((e) => e.id === 'order-1');
    for (const e of mine) expect(Object.keys(e).sort()).toEqual(['data', 'id', 'name']);
    expect(mine.map((e) => e.name)).toEqual(['created', 'updated', 'deleted']);
  });
});
