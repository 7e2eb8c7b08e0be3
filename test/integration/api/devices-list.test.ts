/**
 * `GET /api/v2/devices` with its opt-in query (README "Device list"): a plain GET is still the
 * whole array of full device objects (PROTOCOL.md 4), `fields` selects what each item carries,
 * `limit`/`after` page through in id order with the next page named in headers. And the lifecycle
 * notifications never carry the device password (PROTOCOL.md 3, 7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceUrl,
  openNotify,
  RawDevice,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject, Notification } from '../../../src/shared/types';
import { MAX_DEVICE_PAGE } from '../../../src/shared/device-list';

interface Got<T> {
  status: number;
  body: T;
  headers: Headers;
}

describe('device list: fields and paging', () => {
  let t: TestHub;
  const ids = ['b-2', 'a-1', 'c-3', 'a-10', 'd-4'];

  async function get<T>(query: string): Promise<Got<T>> {
    const res = await fetch(`${t.http}/api/v2/devices${query}`, {
      headers: { authorization: `Bearer ${t.key}`, origin: 'http://elsewhere.example' },
    });
    return { status: res.status, body: (await res.json()) as T, headers: res.headers };
  }

  beforeAll(async () => {
    t = await startTestHub();
    const tokens = new Map<string, string>();
    for (const id of ids)
      tokens.set(id, (await t.createDevice({ id, name: `name of ${id}` })).token);
    // a-1 reports its firmware (Sys.GetInfo, PROTOCOL.md 1 step 3) and goes away again.
    const dev = await RawDevice.connect(deviceUrl(t, `?access_token=${tokens.get('a-1')}`));
    await dev.answerGetInfo({ fw_version: '1.2', arch: 'esp32', fw_id: 'x', app: 't' });
    await waitFor(async () => {
      const d = await t.api<DeviceObject>('GET', '/api/v2/devices/a-1');
      return d.body.shadow.state.reported['ota'] !== undefined;
    });
    dev.close();
    // Offline in memory first, then the hub's own shadow write (`reported.online: false`): wait for
    // both, or that write may land between the list and a device's GET below.
    await waitFor(async () => {
      const d = (await t.api<DeviceObject>('GET', '/api/v2/devices/a-1')).body;
      return d.online === false && d.shadow.state.reported['online'] === false;
    });
  });
  afterAll(() => t.stop());

  it('a plain GET is every full device object, with no paging headers', async () => {
    const r = await get<DeviceObject[]>('');
    expect(r.status).toBe(200);
    expect(r.body.map((d) => d.id).sort()).toEqual([...ids].sort());
    for (const d of r.body) {
      expect(Object.keys(d).sort()).toEqual([
        'acl',
        'created',
        'id',
        'last_seen',
        'name',
        'online',
        'shadow',
        'token',
      ]);
    }
    expect(r.headers.get('x-next-after')).toBeNull();
    expect(r.headers.get('link')).toBeNull();
    // Every device exactly as its own GET shows it (the list reads rows from memory and shadows
    // from the cache or the stored text, a GET from the cache or the row: issue 11).
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    for (const d of r.body) {
      expect(d).toEqual((await t.api<DeviceObject>('GET', `/api/v2/devices/${d.id}`)).body);
    }
  });

  it('fields keeps only the named paths (id always), nested as in the device', async () => {
    const r = await get<Record<string, unknown>[]>(
      '?fields=name,online,last_seen,shadow.state.reported.ota.fw_version,shadow.version',
    );
    expect(r.status).toBe(200);
    const a1 = r.body.find((d) => d['id'] === 'a-1');
    const full = (await t.api<DeviceObject>('GET', '/api/v2/devices/a-1')).body;
    expect(a1).toEqual({
      id: 'a-1',
      name: 'name of a-1',
      online: false,
      last_seen: a1?.['last_seen'],
      shadow: { state: { reported: { ota: { fw_version: '1.2' } } }, version: full.shadow.version },
    });
    expect(a1?.['last_seen']).toBeGreaterThan(0);
    // A path that does not exist on a device is left out, not null.
    expect(r.body.find((d) => d['id'] === 'b-2')).toEqual({
      id: 'b-2',
      name: 'name of b-2',
      online: false,
      last_seen: 0,
      shadow: { version: 0 },
    });
    // The full document and a path inside it: the document, unchanged (and not modified).
    const both = await get<DeviceObject[]>('?fields=shadow.state.reported.ota,shadow');
    expect(both.body.find((d) => d.id === 'a-1')).toEqual({ id: 'a-1', shadow: full.shadow });
    const again = (await t.api<DeviceObject>('GET', '/api/v2/devices/a-1')).body;
    expect(again.shadow).toEqual(full.shadow);
  });

  it('is small: the table fields of 5 devices weigh a fraction of the full list', async () => {
    const full = JSON.stringify((await get<unknown>('')).body).length;
    const slim = JSON.stringify(
      (await get<unknown>('?fields=id,name,online,last_seen')).body,
    ).length;
    expect(slim).toBeLessThan(full / 3);
  });

  it('pages in id order, naming the next page in Link and X-Next-After until the last', async () => {
    const seen: string[] = [];
    let query = '?limit=2&fields=id';
    let pages = 0;
    for (;;) {
      const r = await get<{ id: string }[]>(query);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-total-count')).toBe('5');
      expect(r.headers.get('access-control-expose-headers')).toContain('X-Next-After');
      seen.push(...r.body.map((d) => d.id));
      pages++;
      const next = r.headers.get('x-next-after');
      const link = r.headers.get('link');
      if (next === null) {
        expect(link).toBeNull();
        break;
      }
      expect(next).toBe(r.body[r.body.length - 1]!.id);
      const m = /^<([^>]+)>; rel="next"$/.exec(link ?? '');
      expect(m).not.toBeNull();
      query = m![1]!.replace('/api/v2/devices', '');
      expect(query).toContain('fields=id');
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['a-1', 'a-10', 'b-2', 'c-3', 'd-4']);
  });

  it('a cursor that was deleted meanwhile still continues after it', async () => {
    await t.createDevice({ id: 'b-3' });
    const r = await get<{ id: string }[]>('?limit=2&after=b-25&fields=id');
    expect(r.body.map((d) => d.id)).toEqual(['b-3', 'c-3']);
    await t.api('DELETE', '/api/v2/devices/b-3');
    const past = await get<{ id: string }[]>('?limit=10&after=zzz');
    expect(past.body).toEqual([]);
    expect(past.headers.get('x-next-after')).toBeNull();
  });

  it(`accepts limit=${MAX_DEVICE_PAGE} and refuses more, and bad input, with a coded 400`, async () => {
    expect((await get<unknown[]>(`?limit=${MAX_DEVICE_PAGE}`)).status).toBe(200);
    for (const q of [
      `?limit=${MAX_DEVICE_PAGE + 1}`,
      '?limit=0',
      '?limit=-1',
      '?limit=1e3',
      '?after=a-1',
      '?limit=2&after=bad%20id',
      '?fields=nme',
      '?fields=shadow..state',
      '?fields=,',
      `?fields=${Array.from({ length: 65 }, () => 'id').join(',')}`,
    ]) {
      const r = await get<{ error: { code: number; message: string } }>(q);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe(4002);
    }
  });
});

describe('lifecycle notifications carry no device password', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('created, updated (rename, shadow by REST, shadow by the device) and the stored log', async () => {
    const notify = await openNotify(t);
    const d = await t.createDevice({ id: 'secret-1' });
    await t.api('PUT', '/api/v2/devices/secret-1', { name: 'renamed' });
    await t.api('POST', '/api/v2/devices/secret-1/shadow', { state: { desired: { on: 1 } } });
    const dev = await RawDevice.connect(deviceUrl(t, `?access_token=${d.token}`));
    await dev.answerGetInfo();
    await notify.next((n) => n.name === 'online' && n.id === 'secret-1');
    dev.send({ id: 5, method: 'Shadow.Update', params: { state: { reported: { on: 1 } } } });
    const reported = await notify.next(
      (n) =>
        n.name === 'updated' &&
        JSON.stringify((n.data as unknown as DeviceObject).shadow.state.reported).includes('"on"'),
    );
    dev.close();
    await notify.next((n) => n.name === 'offline' && n.id === 'secret-1');

    const mine = notify.events.filter((n) => n.id === 'secret-1');
    expect(mine.filter((n) => n.name === 'updated').length).toBeGreaterThanOrEqual(3);
    for (const n of mine) expect(JSON.stringify(n)).not.toContain(d.token);
    // `updated` is still the device object (PROTOCOL.md 3), minus the token.
    const obj = reported.data as unknown as Record<string, unknown>;
    expect(Object.keys(obj).sort()).toEqual([
      'acl',
      'created',
      'id',
      'last_seen',
      'name',
      'online',
      'shadow',
    ]);
    expect(obj['name']).toBe('renamed');
    const created = mine.find((n: Notification) => n.name === 'created');
    const { token: _password, ...withoutToken } = d;
    expect(created?.data).toEqual(withoutToken);

    const logs = await t.api<unknown[]>('POST', '/api/v2/logs', { limit: 1000 });
    expect(logs.status).toBe(200);
    expect(logs.text).toContain('secret-1');
    expect(logs.text).not.toContain(d.token);
    notify.ws.close();
  });
});
