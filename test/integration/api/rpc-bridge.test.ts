/**
 * The RPC bridge `GET/POST /api/v2/devices/:id/rpc/:method` (PROTOCOL.md 4) against a hand-driven
 * device: the device's raw `result` as the body, device errors as 502, offline 503, timeout 504,
 * the frame we send (PROTOCOL.md 2), and the `rpc.in`/`rpc.out` notifications (PROTOCOL.md 7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawDevice,
  connectOnline,
  openNotify,
  sleep,
  startTestHub,
  waitFor,
  type ErrorBody,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject, Json, LogEntry } from '../../../src/shared/types';

describe('RPC bridge (PROTOCOL.md 4)', () => {
  let t: TestHub;
  let dev: DeviceObject;
  let offline: DeviceObject;
  let raw: RawDevice;
  let notify: Awaited<ReturnType<typeof openNotify>>;
  let calls = 0;

  beforeAll(async () => {
    t = await startTestHub();
    dev = await t.createDevice({ id: 'rpc-dev' });
    offline = await t.createDevice({ id: 'rpc-offline' });
    notify = await openNotify(t);
    raw = await connectOnline(t, dev);
  });
  afterAll(async () => {
    notify.ws.close();
    raw.close();
    await t.stop();
  });

  /** A fresh method name per call, so each test waits for its own frame. */
  const method = (base: string): string => `${base}${++calls}`;
  const rpcPath = (m: string, id = dev.id): string => `/api/v2/devices/${id}/rpc/${m}`;

  async function get(path: string): Promise<{ status: number; text: string; type: string }> {
    const res = await fetch(t.http + path, { headers: { authorization: `Bearer ${t.key}` } });
    return {
      status: res.status,
      text: await res.text(),
      type: res.headers.get('content-type') ?? '',
    };
  }

  const results: Array<[string, Json]> = [
    ['an object', { a: 1, b: [1, 2], c: { d: null } }],
    ['an empty object', {}],
    ['an array', [1, 'two', null, { x: true }]],
    ['an empty array', []],
    ['a string', 'hello "world"'],
    ['an empty string', ''],
    ['an integer', 42],
    ['zero', 0],
    ['a negative float', -3.25],
    ['true', true],
    ['false', false],
    ['null', null],
  ];

  it.each(results)('POST returns %s as the raw body', async (_what, value) => {
    const m = method('Echo');
    const pending = t.api('POST', rpcPath(m), { q: 1 });
    raw.reply(await raw.call(m), value);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.text).toBe(JSON.stringify(value));
  });

  it.each(results)('GET returns %s as the raw body, typed application/json', async (_w, value) => {
    const m = method('Get');
    const pending = get(rpcPath(m));
    raw.reply(await raw.call(m), value);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/json');
    expect(r.text).toBe(JSON.stringify(value));
  });

  it('sends params = the POST body, src = $sys/<id>, a numeric id and no dst', async () => {
    const m = method('Config.Set');
    const body = { config: { wifi: { ssid: 'lab' } }, save: true, list: [1, 2, 3] };
    const pending = t.api('POST', rpcPath(m) + '?timeout=5000', body);
    const call = await raw.call(m);
    expect(call['params']).toEqual(body);
    expect(call['src']).toBe(`$sys/${dev.id}`);
    expect(typeof call['id']).toBe('number');
    expect(call).not.toHaveProperty('dst');
    expect(call).not.toHaveProperty('jsonrpc');
    raw.reply(call, true);
    expect((await pending).body).toBe(true);
  });

  it('a GET sends no params, and access_token/timeout never leak into the call', async () => {
    const m = method('Sys.GetInfo.X');
    const pending = fetch(`${t.http}${rpcPath(m)}?access_token=${t.key}&timeout=4000`);
    const call = await raw.call(m);
    expect(call['params'] ?? null).toBeNull();
    expect(JSON.stringify(call)).not.toContain(t.key);
    raw.reply(call, 'ok');
    expect(await (await pending).text()).toBe('"ok"');
  });

  it('a POST with an array or scalar body sends it as params unchanged', async () => {
    for (const body of [[1, 'a'], 5, 'text']) {
      const m = method('Params');
      const pending = t.api('POST', rpcPath(m), JSON.stringify(body));
      const call = await raw.call(m);
      expect(call['params']).toEqual(body);
      raw.reply(call, null);
      expect((await pending).status).toBe(200);
    }
  });

  it('a device error reply is 502 carrying the device message', async () => {
    const m = method('Fails');
    const pending = t.api<ErrorBody>('POST', rpcPath(m), {});
    const call = await raw.call(m);
    raw.send({ id: call['id'], error: { code: -32000, message: 'sensor on fire' } });
    const r = await pending;
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe(502);
    expect(r.body.error.message).toContain('sensor on fire');
  });

  it('an offline device is 503; an unknown one is 404', async () => {
    const r = await t.api<ErrorBody>('POST', rpcPath('Sys.Reboot', offline.id), {});
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ error: { code: 503, message: expect.any(String) } });
    const g = await get(rpcPath('Sys.Reboot', offline.id));
    expect(g.status).toBe(503);
    const u = await t.api<ErrorBody>('POST', rpcPath('Sys.Reboot', 'nobody'), {});
    expect(u.status).toBe(404);
    expect(u.body.error.code).toBe(4041);
  });

  it('a device that does not answer is 504 after ?timeout=, and the session stays usable', async () => {
    const m = method('Slow');
    const started = Date.now();
    const pending = t.api<ErrorBody>('POST', rpcPath(m) + '?timeout=200', {});
    const call = await raw.call(m);
    const r = await pending;
    const took = Date.now() - started;
    expect(r.status).toBe(504);
    expect(r.body.error.code).toBe(504);
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(3000);
    // A late reply is dropped (never answered), and the next call works.
    raw.reply(call, 'too late');
    await sleep(50);
    expect(raw.ws.readyState).toBe(raw.ws.OPEN);
    const m2 = method('After');
    const next = t.api('POST', rpcPath(m2), {});
    raw.reply(await raw.call(m2), 'fine');
    expect((await next).body).toBe('fine');
  });

  it.each([
    ['a non-numeric timeout', `${'Echo'}?timeout=abc`],
    ['a negative timeout', `${'Echo'}?timeout=-5`],
    ['a method with a space', 'Bad%20Method'],
  ])('refuses %s with 400 before calling the device', async (_what, suffix) => {
    const before = raw.frames.length;
    const r = await t.api<ErrorBody>('POST', `/api/v2/devices/${dev.id}/rpc/${suffix}`, {});
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(4002);
    await sleep(30);
    expect(raw.frames.length).toBe(before);
  });

  it('emits rpc.in.<M> with the params and rpc.out.<M> for device frames, on the stream and in /logs', async () => {
    const m = method('Relay.Set');
    const params = { relay: 2, on: true };
    const pending = t.api('POST', rpcPath(m), params);
    raw.reply(await raw.call(m), true);
    await pending;
    const inbound = await notify.next((n) => n.name === `rpc.in.${m}` && n.id === dev.id);
    expect(inbound.data).toEqual(params);

    raw.send({ method: 'Temp.Report', params: { t: 21.5 } });
    const outbound = await notify.next((n) => n.name === 'rpc.out.Temp.Report');
    expect(outbound).toEqual({ name: 'rpc.out.Temp.Report', id: dev.id, data: { t: 21.5 } });

    let logged: LogEntry[] = [];
    await waitFor(async () => {
      logged = (
        await t.api<LogEntry[]>('POST', '/api/v2/logs', { device: dev.id, name: `rpc.in.${m}` })
      ).body;
      return logged.length === 1;
    });
    expect(logged[0]).toMatchObject({ name: `rpc.in.${m}`, id: dev.id, data: params });
    let out: LogEntry[] = [];
    await waitFor(async () => {
      out = (await t.api<LogEntry[]>('POST', '/api/v2/logs', { name: 'rpc.out.*' })).body;
      return out.some((e) => e.name === 'rpc.out.Temp.Report');
    });
    for (const e of out) expect(e.name.startsWith('rpc.out.')).toBe(true);
  });

  it('a device disconnecting mid-call fails the call at once with 503', async () => {
    const other = await t.createDevice({ id: 'rpc-drop' });
    const d = await connectOnline(t, other);
    const started = Date.now();
    const pending = t.api<ErrorBody>('POST', rpcPath('Hang', other.id), {});
    await d.call('Hang');
    d.ws.terminate();
    const r = await pending;
    expect(r.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses params whose call frame would not fit the device (413), sends nothing', async () => {
    const m = method('Big');
    const r = await t.api('POST', rpcPath(m), { blob: 'x'.repeat(9000) });
    expect(r.status).toBe(413);
    expect(r.text).toMatch(/call frame would be \d+ bytes; a device accepts at most 8192/);
    // The session is still usable and the refused call never reached it.
    const ok = method('Small');
    const pending = t.api('POST', rpcPath(ok), { blob: 'x'.repeat(100) });
    const frame = await raw.call(ok);
    raw.reply(frame, 1);
    expect((await pending).status).toBe(200);
  });
});
