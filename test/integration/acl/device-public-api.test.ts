/**
 * The device public API (PROTOCOL.md 4, 8) on a real hub: a device ACL's `public_key` by
 * `access_token` or Bearer reaches `/api/v2/m/device*` with exactly the access the ACL grants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  RawDevice,
  connectOnline,
  startTestHub,
  upgradeStatus,
  waitFor,
  type ErrorBody,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject, Notification } from '../../../src/shared/types';

// A base64 key with a raw `+` and `/`: a form decoder would turn the `+` into a space.
const KEY = 'dch0b+sVvB8l/umlXR0C7Tw=';

const ACL = {
  public_key: KEY,
  shadow_read: '^.state.(reported|desired|delta).(on|level)',
  shadow_write: ['^.state.desired.on$', '^.state.desired.level$'],
  rpc: 'GPIO.*, Sys.Reboot',
  data_read: { mine: "SELECT topic, message FROM data WHERE device_id='DEVICE_ID' ORDER BY rowid" },
};

describe('device public API', () => {
  let t: TestHub;
  let dev: DeviceObject;
  let other: DeviceObject;
  let raw: RawDevice;

  const pub = async <T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    key: string | null = KEY,
  ): Promise<{ status: number; body: T }> => {
    const r = await t.api<T>(method, path, body, key);
    return { status: r.status, body: r.body };
  };
  const viaQuery = async (query: string): Promise<number> =>
    (await fetch(`${t.http}/api/v2/m/device?${query}`)).status;

  beforeAll(async () => {
    t = await startTestHub();
    dev = await t.createDevice({ id: 'lamp' });
    other = await t.createDevice({ id: 'other' });
    const saved = await t.api('POST', `/api/v2/devices/${dev.id}`, { acl: ACL });
    expect(saved.status).toBe(200);
    await t.api('POST', `/api/v2/devices/${other.id}`, {
      acl: { public_key: 'other-key', shadow_read: '.*' },
    });
    await t.api('POST', `/api/v2/devices/${dev.id}/shadow`, {
      state: { reported: { on: false, level: 2, secret: 'x' }, desired: { hidden: 1 } },
    });
    raw = await connectOnline(t, dev);
  });
  afterAll(async () => {
    raw.close();
    await t.stop();
  });

  describe('ACL on the management API', () => {
    it('stores string and array forms and echoes them exactly as sent', async () => {
      const got = await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`);
      expect(got.body.acl).toEqual(ACL);
    });

    it('refuses a regex RE2 cannot compile with 400 4007, naming the field', async () => {
      for (const bad of ['(a', '(a)\\1', '(?=x)y', ['ok', '(?<!a)b']]) {
        const r = await t.api<ErrorBody>('POST', `/api/v2/devices/${other.id}`, {
          acl: { shadow_write: bad },
        });
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe(4007);
        expect(r.body.error.message).toMatch(/acl\.shadow_write/);
      }
      const kept = await t.api<DeviceObject>('GET', `/api/v2/devices/${other.id}`);
      expect(kept.body.acl['public_key']).toBe('other-key');
    });

    it('accepts the known evil patterns: they run on a linear-time engine', async () => {
      const evil = ['(a+)+$', '(a|aa)+$', '(.*a){25}', '^(([a-z])+.)+[A-Z]([a-z])+$'];
      const r = await t.api('POST', `/api/v2/devices/${other.id}`, {
        acl: { public_key: 'evil-key', shadow_read: evil },
      });
      expect(r.status).toBe(200);
      // A shadow leaf built to make a backtracking engine explode answers at once.
      await t.api('POST', `/api/v2/devices/${other.id}/shadow`, {
        state: { reported: { [`${'a'.repeat(3000)}`]: 1 } },
      });
      const t0 = Date.now();
      const got = await pub('GET', '/api/v2/m/device', undefined, 'evil-key');
      expect(got.status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(2000);
    });

    it('refuses data queries the SQL guard refuses', async () => {
      const r = await t.api<ErrorBody>('POST', `/api/v2/devices/${other.id}`, {
        acl: { data_read: { x: "ATTACH DATABASE '/tmp/x' AS y" } },
      });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe(4038);
      expect(r.body.error.message).toMatch(/acl\.data_read\.x/);
    });
  });

  describe('keys', () => {
    it('401 without a key, with an unknown one, with a master key', async () => {
      for (const key of [null, 'nope', t.key]) {
        const r = await pub<ErrorBody>('GET', '/api/v2/m/device', undefined, key);
        expect(r.status).toBe(401);
        expect(r.body.error.code).toBe(401);
      }
    });

    it('takes the key by Bearer, raw `+` in access_token, and %2B', async () => {
      expect((await pub('GET', '/api/v2/m/device')).status).toBe(200);
      expect(await viaQuery(`access_token=${KEY}`)).toBe(200);
      expect(await viaQuery(`access_token=${encodeURIComponent(KEY)}`)).toBe(200);
      expect(await viaQuery(`access_token=${KEY.replace('+', ' ')}`)).toBe(401);
    });

    it('a master key does not reach the device API, nor a device key the management API', async () => {
      expect((await t.api('GET', '/api/v2/devices', undefined, KEY)).status).toBe(401);
    });
  });

  describe('GET /api/v2/m/device', () => {
    it('returns id and the shadow filtered leaf by leaf; never token or acl', async () => {
      const r = await pub<Record<string, unknown>>('GET', '/api/v2/m/device');
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['id', 'shadow']);
      expect(r.body).toEqual({
        id: dev.id,
        // `(on|level)` is unanchored at its end: a search, as RegExp.test, so `online` matches too.
        shadow: { state: { reported: { on: false, level: 2, online: true } } },
      });
    });

    it('no shadow_read: only the id', async () => {
      await t.api('POST', `/api/v2/devices/${other.id}`, { acl: { public_key: 'bare' } });
      const r = await pub('GET', '/api/v2/m/device', undefined, 'bare');
      expect(r.body).toEqual({ id: other.id, shadow: {} });
    });
  });

  describe('POST /api/v2/m/device', () => {
    it('writes an allowed desired state through the shadow pipeline: Shadow.Delta reaches the device', async () => {
      const r = await pub('POST', '/api/v2/m/device', {
        shadow: { state: { desired: { on: true, level: 5 } } },
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        id: dev.id,
        shadow: { state: { desired: { on: true, level: 5 }, delta: { on: true, level: 5 } } },
      });
      const delta = await raw.next(
        (f) => f['method'] === 'Shadow.Delta' && JSON.stringify(f['params']).includes('"level":5'),
      );
      expect(delta['params']).toMatchObject({ state: { on: true, level: 5 } });
    });

    it('403 and nothing written when any leaf is outside shadow_write', async () => {
      const before = await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`);
      const r = await pub<ErrorBody & { error: { message: string } }>('POST', '/api/v2/m/device', {
        shadow: { state: { desired: { on: false, hidden: 2 }, reported: { on: true } } },
      });
      expect(r.status).toBe(403);
      expect(r.body.error.message).toContain('.state.desired.hidden');
      expect(r.body.error.message).toContain('.state.reported.on');
      const after = await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`);
      expect(after.body.shadow).toEqual(before.body.shadow);
    });

    it('a body that is not {"shadow":{..}} is a 400', async () => {
      expect((await pub('POST', '/api/v2/m/device', { state: {} })).status).toBe(400);
    });
  });

  describe('RPC', () => {
    it('calls a method the globs allow, through the management bridge', async () => {
      const pending = pub('POST', '/api/v2/m/device/rpc/GPIO.Toggle', { pin: 2 });
      const call = await raw.call('GPIO.Toggle');
      expect(call['params']).toEqual({ pin: 2 });
      raw.reply(call, { value: 1 });
      const r = await pending;
      expect(r).toEqual({ status: 200, body: { value: 1 } });
    });

    it('403 for a method no glob allows; the device sees no call', async () => {
      const r = await pub<ErrorBody>('GET', '/api/v2/m/device/rpc/Sys.GetInfo');
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe(403);
      expect(raw.frames.filter((f) => f['method'] === 'Sys.GetInfo')).toHaveLength(1);
    });
  });

  describe('data', () => {
    it('runs the ACL data_read query for this device; 404 for a name it lacks', async () => {
      await t.hub.services().store.account.insertData(dev.id, 'temp', '{"c":21}');
      await t.hub.services().store.account.insertData(other.id, 'temp', '{"c":99}');
      const r = await pub<{ columns: string[]; rows: unknown[][] }>(
        'POST',
        '/api/v2/m/device/data/mine',
        { params: [] },
      );
      expect(r.status).toBe(200);
      expect(r.body.columns).toEqual(['topic', 'message']);
      expect(r.body.rows).toContainEqual(['temp', '{"c":21}']);
      expect(r.body.rows).not.toContainEqual(['temp', '{"c":99}']);
      const get = await pub('GET', '/api/v2/m/device/data/mine');
      expect(get.status).toBe(200);
      const missing = await pub<ErrorBody>('GET', '/api/v2/m/device/data/nope');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe(4048);
    });
  });

  describe('notify', () => {
    const notifyUrl = (key: string): string => `${t.ws}/api/v2/m/device/notify?access_token=${key}`;

    it('refuses an unknown key before the upgrade', async () => {
      expect(await upgradeStatus(notifyUrl('nope'))).toBe(401);
      expect(await upgradeStatus(notifyUrl(t.key))).toBe(401);
    });

    it("streams only this device's notifications, shadow filtered by the ACL", async () => {
      const ws = new WebSocket(notifyUrl(KEY));
      const got: Notification[] = [];
      ws.on('message', (d) => got.push(JSON.parse(d.toString()) as Notification));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      await t.api('POST', `/api/v2/devices/${other.id}/shadow`, { state: { desired: { x: 1 } } });
      await t.api('POST', `/api/v2/devices/${dev.id}/shadow`, {
        state: { reported: { level: 9, secret: 'y' } },
      });
      await waitFor(() => got.some((n) => n.name === 'updated'));
      ws.close();
      expect(got.every((n) => n.id === dev.id)).toBe(true);
      const updated = got.find((n) => n.name === 'updated');
      const data = updated?.data as Record<string, unknown>;
      expect(data['token']).toBeUndefined();
      expect(data['acl']).toBeUndefined();
      expect(JSON.stringify(data['shadow'])).not.toContain('secret');
      expect(data['shadow']).toMatchObject({ state: { reported: { level: 9 } } });
    });

    it('closes the stream when the key is changed', async () => {
      await t.api('POST', `/api/v2/devices/${other.id}`, { acl: { public_key: 'temp-key' } });
      const ws = new WebSocket(notifyUrl('temp-key'));
      await new Promise((resolve) => ws.once('open', resolve));
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      await t.api('POST', `/api/v2/devices/${other.id}`, { acl: { public_key: 'new-key' } });
      expect(await closed).toBe(4003);
      expect((await pub('GET', '/api/v2/m/device', undefined, 'temp-key')).status).toBe(401);
      expect((await pub('GET', '/api/v2/m/device', undefined, 'new-key')).status).toBe(200);
    });
  });

  describe('key lifecycle', () => {
    it('adopts the key a device reports in Sys.GetInfo when the ACL has none', async () => {
      const d = await t.createDevice({ id: 'adopter' });
      const r = await RawDevice.connect(`${t.ws}/api/v2/rpc`, {
        headers: { authorization: `Bearer ${d.token}` },
      });
      await r.answerGetInfo({
        fw_version: '1.0',
        arch: 'esp32',
        fw_id: 'x',
        public_key: 'adopted+1',
      });
      await waitFor(
        async () => (await pub('GET', '/api/v2/m/device', undefined, 'adopted+1')).status === 200,
      );
      r.close();
    });

    it('an empty key turns access off; a deleted device key stops working', async () => {
      const d = await t.createDevice({ id: 'gone' });
      await t.api('POST', `/api/v2/devices/${d.id}`, { acl: { public_key: 'gone-key' } });
      expect((await pub('GET', '/api/v2/m/device', undefined, 'gone-key')).status).toBe(200);
      await t.api('POST', `/api/v2/devices/${d.id}`, { acl: { public_key: '' } });
      expect((await pub('GET', '/api/v2/m/device', undefined, 'gone-key')).status).toBe(401);
      await t.api('POST', `/api/v2/devices/${d.id}`, { acl: { public_key: 'gone-key' } });
      await t.api('DELETE', `/api/v2/devices/${d.id}`);
      expect((await pub('GET', '/api/v2/m/device', undefined, 'gone-key')).status).toBe(401);
    });
  });
});
