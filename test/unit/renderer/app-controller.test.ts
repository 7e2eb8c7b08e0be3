/**
 * The dashboard's controller, stores and API client against a real hub on port 0 (no browser:
 * the page's environment is replaced by an in-memory address bar and storage, and `ws` for the
 * WebSocket). Devices are raw device sockets speaking PROTOCOL.md 1-2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHub, type Hub } from '../../../src/main/hub';
import { createApp, type App } from '../../../src/renderer/app-controller';
import { sessionKeyStorage, type AddressBar } from '../../../src/renderer/api/browser';
import type { FetchLike } from '../../../src/renderer/api/http-client';
import type { SocketLike } from '../../../src/renderer/api/notify-stream';
import type { DeviceObject } from '../../../src/shared/types';
import { RawDevice } from '../../support/hub-harness';

function memoryAddressBar(initial: string): AddressBar & { current: string } {
  const listeners = new Set<() => void>();
  const bar = {
    current: initial,
    hash: () => bar.current,
    replaceHash(h: string) {
      bar.current = h;
    },
    pushHash(h: string) {
      bar.current = h;
      for (const l of listeners) l();
    },
    onHashChange(l: () => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return bar;
}

class MemoryStorage {
  items = new Map<string, string>();
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.items.set(k, v);
  }
  removeItem(k: string): void {
    this.items.delete(k);
  }
}

function until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() - t0 > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

let tmp: string;
let hub: Hub;
let origin: string;
let deviceUrl: string;
let key: string;
const apps: App[] = [];
const sockets: RawDevice[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fb-dash-'));
  hub = createHub({ dataDir: tmp, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  const urls = await hub.start();
  origin = urls.http;
  deviceUrl = urls.device;
  key = hub.masterKey();
});

afterEach(() => {
  for (const a of apps.splice(0)) a.dispose();
  for (const s of sockets.splice(0)) s.close();
});

afterAll(async () => {
  await hub.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function makeApp(
  hash: string,
  storage = new MemoryStorage(),
  fetchImpl?: FetchLike,
): { app: App; bar: ReturnType<typeof memoryAddressBar>; storage: MemoryStorage } {
  const bar = memoryAddressBar(hash);
  const app = createApp({
    origin,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
    addressBar: bar,
    storage: sessionKeyStorage(storage as unknown as Storage),
    desktop: null,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    notifyBatchMs: 10,
  });
  apps.push(app);
  return { app, bar, storage };
}

async function readyApp(): Promise<App> {
  const { app } = makeApp(`#key=${key}`);
  await app.start();
  expect(app.session.getState().phase).toBe('ready');
  await until(() => app.connection.getState().status.state === 'open');
  return app;
}

async function connectDevice(token: string): Promise<RawDevice> {
  const dev = await RawDevice.connect(`${deviceUrl}?access_token=${encodeURIComponent(token)}`);
  sockets.push(dev);
  await dev.answerGetInfo({ fw_version: '3.1.4', arch: 'esp32', fw_id: 'x', app: 'test' });
  return dev;
}

describe('session', () => {
  it('takes the key from #key=, removes it from the address bar and remembers it for the tab', async () => {
    const { app, bar, storage } = makeApp(`#key=${encodeURIComponent(key)}`);
    expect(bar.current).toBe('');
    await app.start();
    expect(app.session.getState()).toMatchObject({
      phase: 'ready',
      source: 'fragment',
      error: null,
    });
    expect([...storage.items.values()]).toEqual([key]);

    // A reload of the tab finds the stored key.
    const again = makeApp('', storage);
    await again.app.start();
    expect(again.app.session.getState()).toMatchObject({ phase: 'ready', source: 'stored' });
  });

  it('shows the login form with a coded message for a wrong key, and stores nothing', async () => {
    const { app, storage } = makeApp('#key=wrong');
    await app.start();
    const s = app.session.getState();
    expect(s.phase).toBe('login');
    expect(s.error).toContain('401');
    expect(storage.items.size).toBe(0);
    expect(await app.session.getState().submitKey('   ')).toBe(false);
    expect(app.session.getState().error).toContain('Paste');
    expect(await app.session.getState().submitKey(key)).toBe(true);
    expect(app.session.getState().phase).toBe('ready');
  });

  it('says the hub is unreachable when it is', async () => {
    const bar = memoryAddressBar('#key=x');
    const app = createApp({
      origin: 'http://127.0.0.1:9',
      addressBar: bar,
      storage: sessionKeyStorage(null),
      desktop: null,
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    });
    apps.push(app);
    await app.start();
    expect(app.session.getState().phase).toBe('login');
    expect(app.session.getState().error).toContain('Cannot reach the hub');
  });

  it('logs out: forgets the key, closes the stream, clears the table', async () => {
    const app = await readyApp();
    app.session.getState().logout();
    expect(app.session.getState().phase).toBe('login');
    expect(app.connection.getState().status.state).toBe('closed');
    expect(app.devices.getState().devices.size).toBe(0);
  });
});

describe('devices', () => {
  it('follows devices live: created, online with firmware, offline, deleted', async () => {
    const app = await readyApp();
    const res = await fetch(`${origin}/api/v2/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'live one' }),
    });
    const dev = (await res.json()) as DeviceObject;
    await until(() => app.devices.getState().devices.has(dev.id));

    const sock = await connectDevice(dev.token);
    await until(() => app.devices.getState().devices.get(dev.id)?.online === true);
    await until(() => app.devices.getState().devices.get(dev.id)?.fw === '3.1.4');
    sock.close();
    await until(() => app.devices.getState().devices.get(dev.id)?.online === false);

    await fetch(`${origin}/api/v2/devices/${dev.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${key}` },
    });
    await until(() => !app.devices.getState().devices.has(dev.id));
  });

  it('adds a device (token kept for the one-time dialog) and removes it', async () => {
    const app = await readyApp();
    const d = await app.devices.getState().create({ name: 'from store' });
    expect(d).not.toBeNull();
    const created = app.devices.getState().created;
    expect(created?.device.token).toBe(d!.token);
    expect(created?.deviceUrl).toBe(`${origin.replace('http', 'ws')}/api/v2/rpc`);
    app.devices.getState().dismissCreated();
    expect(app.devices.getState().created).toBeNull();

    expect(await app.devices.getState().remove(d!.id)).toBe(true);
    expect(app.devices.getState().devices.has(d!.id)).toBe(false);
    // Removing it again is a coded error for the still-open dialog (not a toast behind it),
    // and the table is untouched.
    const size = app.devices.getState().devices.size;
    expect(await app.devices.getState().remove(d!.id)).toBe(false);
    expect(app.devices.getState().deleteError?.code).toBe(4041);
    expect(app.toasts.getState().toasts).toEqual([]);
    expect(app.devices.getState().devices.size).toBe(size);
    app.devices.getState().clearDeleteError();
    expect(app.devices.getState().deleteError).toBeNull();
  });

  it('refuses a duplicate id with the hub code and changes nothing', async () => {
    const app = await readyApp();
    const first = await app.devices.getState().create({ id: 'dup-1' });
    expect(first?.id).toBe('dup-1');
    const size = app.devices.getState().devices.size;
    expect(await app.devices.getState().create({ id: 'dup-1' })).toBeNull();
    // The error belongs to the dialog that is still open, not a toast behind it.
    expect(app.devices.getState().createError).toMatchObject({ code: 4092 });
    expect(app.devices.getState().createError?.message).toContain('dup-1');
    expect(app.toasts.getState().toasts).toEqual([]);
    expect(app.devices.getState().devices.size).toBe(size);
    // Editing the input or closing the dialog clears it; a success leaves none.
    app.devices.getState().clearCreateError();
    expect(app.devices.getState().createError).toBeNull();
    expect(await app.devices.getState().create({ id: 'dup-2' })).not.toBeNull();
    expect(app.devices.getState().createError).toBeNull();
  });

  it('applies notifications that arrive during a resync after the list', async () => {
    const app = await readyApp();
    const sync = app.devices.getState().resync();
    app.devices.getState().applyNotifications([
      {
        name: 'created',
        id: 'ghost-x',
        data: {
          id: 'ghost-x',
          name: 'g',
          online: false,
          shadow: { state: {}, version: 0 },
        } as never,
      },
    ]);
    await sync;
    expect(app.devices.getState().devices.has('ghost-x')).toBe(true);
  });
});

describe('device detail', () => {
  async function setup(): Promise<{ app: App; dev: DeviceObject; sock: RawDevice }> {
    const app = await readyApp();
    const dev = (await app.devices.getState().create({ name: 'detail' }))!;
    const sock = await connectDevice(dev.token);
    app.route.getState().navigate({ name: 'device', id: dev.id });
    await until(() => app.detail.getState().status === 'ready');
    // The session steps (online, then Sys.GetInfo as reported.ota) move the shadow version; let
    // them land first, so a test's save does not race them into a second 409.
    await until(() => app.detail.getState().device?.shadow.state.reported.ota !== undefined);
    return { app, dev, sock };
  }

  it('routes to the device and back through the address bar', async () => {
    const { app, bar } = makeApp(`#key=${key}`);
    await app.start();
    const dev = (await app.devices.getState().create({ name: 'routed' }))!;
    bar.pushHash(`#/devices/${encodeURIComponent(dev.id)}`);
    await until(() => app.detail.getState().status === 'ready');
    expect(app.detail.getState().device?.name).toBe('routed');
    app.route.getState().navigate({ name: 'devices' });
    expect(bar.current).toBe('#/devices');
    expect(app.detail.getState().id).toBeNull();
    bar.pushHash('#/devices/no-such-device');
    await until(() => app.detail.getState().status === 'missing');
  });

  it('saves desired as a patch, deleting removed keys, and survives a reported-only version bump', async () => {
    const { app, dev, sock } = await setup();
    const d = app.detail.getState();
    d.setDraft('{"led": true, "mode": "eco"}');
    expect(await app.detail.getState().saveDesired()).toBe(true);
    expect(app.detail.getState().device?.shadow.state.desired).toEqual({ led: true, mode: 'eco' });
    expect(app.detail.getState().draftDirty).toBe(false);

    // The device reports while the user edits: the version moves but desired does not.
    app.detail.getState().setDraft('{"led": false}');
    sock.send({ method: 'Dash.Shadow.Update', params: { state: { reported: { temp: 21 } } } });
    await until(() => app.detail.getState().device?.shadow.state.reported.temp === 21);
    expect(await app.detail.getState().saveDesired()).toBe(true);
    const shadow = (await (
      await fetch(`${origin}/api/v2/devices/${dev.id}/shadow`, {
        headers: { authorization: `Bearer ${key}` },
      })
    ).json()) as {
      state: { desired: unknown };
    };
    expect(shadow.state.desired).toEqual({ led: false });
    expect(app.detail.getState().conflict).toBeNull();
  });

  it('keeps what the user typed while a save was in flight, and saves it next from the new base', async () => {
    const { app, dev } = await setup();
    app.detail.getState().setDraft('{"led": true, "mode": "eco"}');
    const saving = app.detail.getState().saveDesired();
    app.detail.getState().setDraft('{"led": false}');
    expect(await saving).toBe(true);
    const after = app.detail.getState();
    expect(after.device?.shadow.state.desired).toEqual({ led: true, mode: 'eco' });
    expect(after.draft).toBe('{"led": false}');
    expect(after.draftDirty).toBe(true);
    expect(after.draftBase).toEqual({ led: true, mode: 'eco' });
    // The next save is a patch from what the first one stored, at its version: no conflict.
    expect(await app.detail.getState().saveDesired()).toBe(true);
    expect(app.detail.getState().conflict).toBeNull();
    const res = await fetch(`${origin}/api/v2/devices/${dev.id}/shadow`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(((await res.json()) as { state: { desired: unknown } }).state.desired).toEqual({
      led: false,
    });
  });

  it('drops a device read that crossed a save and answers with the older shadow', async () => {
    // Reads of the device are held after the hub answered them, until the test lets them go.
    let hold: Promise<void> | null = null;
    let heldAnswers = 0;
    const gated: FetchLike = async (input, init) => {
      const res = await fetch(input, init);
      const isDeviceRead = (init?.method ?? 'GET') === 'GET' && /\/devices\/[^/?]+$/.test(input);
      if (isDeviceRead && hold) {
        heldAnswers++;
        await hold;
      }
      return res;
    };
    const { app } = makeApp(`#key=${key}`, new MemoryStorage(), gated);
    await app.start();
    const dev = (await app.devices.getState().create({ name: 'crossed' }))!;
    await connectDevice(dev.token);
    app.route.getState().navigate({ name: 'device', id: dev.id });
    await until(() => app.detail.getState().status === 'ready');
    await until(() => app.detail.getState().device?.shadow.state.reported.ota !== undefined);
    let release = (): void => {};
    hold = new Promise((r) => (release = r));
    const stale = app.detail.getState().refresh();
    await until(() => heldAnswers === 1); // the hub has answered the read, before the save
    app.detail.getState().setDraft('{"led": true}');
    expect(await app.detail.getState().saveDesired()).toBe(true);
    release();
    await stale;
    const after = app.detail.getState();
    expect(after.device?.shadow.state.desired).toEqual({ led: true });
    expect(JSON.parse(after.draft)).toEqual({ led: true });
  });

  it('reports a real conflict and keeps the hub unchanged', async () => {
    const { app, dev } = await setup();
    app.detail.getState().setDraft('{"led": true}');
    await fetch(`${origin}/api/v2/devices/${dev.id}/shadow`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: { desired: { other: 1 } } }),
    });
    await until(() => app.detail.getState().remoteChanged);
    expect(await app.detail.getState().saveDesired()).toBe(false);
    expect(app.detail.getState().conflict?.code).toBe(4091);
    const res = await fetch(`${origin}/api/v2/devices/${dev.id}/shadow`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(((await res.json()) as { state: { desired: unknown } }).state.desired).toEqual({
      other: 1,
    });
    await app.detail.getState().loadLatest();
    expect(app.detail.getState().conflict).toBeNull();
    expect(JSON.parse(app.detail.getState().draft)).toEqual({ other: 1 });
  });

  it('refuses invalid drafts without calling the hub', async () => {
    const { app } = await setup();
    const version = app.detail.getState().device!.shadow.version;
    app.detail.getState().setDraft('[1, 2]');
    expect(app.detail.getState().draftError).toContain('JSON object');
    expect(await app.detail.getState().saveDesired()).toBe(false);
    expect(app.detail.getState().device!.shadow.version).toBe(version);
  });

  it('calls RPCs: result, device error, bad input, offline', async () => {
    const { app, sock } = await setup();
    const d = app.detail.getState();
    d.setRpcMethod('Echo');
    d.setRpcParams('{"x": 1}');
    const pending = app.detail.getState().callRpc();
    const call = await sock.call('Echo');
    expect(call.params).toEqual({ x: 1 });
    sock.reply(call, { echoed: true });
    await pending;
    expect(app.detail.getState().rpcOutcome).toMatchObject({
      ok: true,
      method: 'Echo',
      value: { echoed: true },
    });

    app.detail.getState().setRpcMethod('Fails');
    app.detail.getState().setRpcParams('');
    const p2 = app.detail.getState().callRpc();
    const c2 = await sock.call('Fails');
    sock.send({ id: c2.id, error: { code: -32000, message: 'boom' } });
    await p2;
    expect(app.detail.getState().rpcOutcome).toMatchObject({ ok: false, code: 502 });

    app.detail.getState().setRpcMethod('bad method!');
    await app.detail.getState().callRpc();
    expect(app.detail.getState().rpcInputError).toContain('Method names');
    app.detail.getState().setRpcMethod('X');
    app.detail.getState().setRpcParams('{oops');
    await app.detail.getState().callRpc();
    expect(app.detail.getState().rpcInputError).toContain('Params');

    sock.close();
    await until(() => app.detail.getState().device?.online === false);
    app.detail.getState().setRpcParams('');
    await app.detail.getState().callRpc();
    expect(app.detail.getState().rpcOutcome).toMatchObject({ ok: false, code: 503 });
  });

  it('collects console lines and events for this device only', async () => {
    const { app, sock, dev } = await setup();
    sock.send({ method: 'Log', params: { fd: 1, data: 'hello\n', t: 1, seq: 1 } });
    sock.send({ method: 'Log', params: { fd: 2, data: 'oops\n', t: 2, seq: 2 } });
    sock.send({ method: 'Custom.Event', params: { a: 1 } });
    await until(() => app.detail.getState().console.length === 2);
    expect(app.detail.getState().console.map((l) => [l.fd, l.text])).toEqual([
      [1, 'hello\n'],
      [2, 'oops\n'],
    ]);
    await until(() => app.detail.getState().events.some((e) => e.name === 'rpc.out.Custom.Event'));
    expect(app.detail.getState().events.every((e) => e.name !== 'rpc.out.Log')).toBe(true);
    app.detail.getState().clearConsole();
    expect(app.detail.getState().console).toEqual([]);

    await fetch(`${origin}/api/v2/devices/${dev.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${key}` },
    });
    await until(() => app.detail.getState().status === 'deleted');
  });
});

describe('loading and reconnecting', () => {
  /** A fetch that records every request the dashboard makes. */
  function countingFetch(): { fetch: typeof fetch; urls: string[] } {
    const urls: string[] = [];
    return {
      urls,
      fetch: (input, init) => {
        urls.push(String(input));
        return fetch(input, init);
      },
    };
  }
  const isList = (u: string): boolean => new URL(u).pathname === '/api/v2/devices';

  it('reads the device list once on load, with only the table fields, and opens the stream', async () => {
    for (let i = 0; i < 5; i++) await createViaApi({ name: `count-${i}` });
    const counter = countingFetch();
    const app = createApp({
      origin,
      addressBar: memoryAddressBar(`#key=${key}`),
      storage: sessionKeyStorage(null),
      desktop: null,
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      fetch: counter.fetch,
      notifyBatchMs: 10,
    });
    apps.push(app);
    await app.start();
    await until(() => app.connection.getState().status.state === 'open');
    // Anything an extra open-triggered reload would do has had time to happen.
    await new Promise((r) => setTimeout(r, 200));
    const lists = counter.urls.filter(isList);
    expect(lists).toHaveLength(1);
    expect(new URL(lists[0]!).searchParams.get('fields')).toBe(
      'id,name,online,last_seen,shadow.version,shadow.state.reported.ota.fw_version',
    );
    expect(app.devices.getState().devices.size).toBeGreaterThanOrEqual(5);
    expect(app.devices.getState().visibleIds.length).toBe(app.devices.getState().devices.size);
  });

  it('keeps the visible ids (the table) untouched by changes that do not reorder it', async () => {
    const app = await readyApp();
    const d = await createViaApi({ name: 'steady' });
    await until(() => app.devices.getState().devices.has(d.id));
    const ids = app.devices.getState().visibleIds;
    const sock = await connectDevice(d.token);
    // Online and through its session steps (the Sys.GetInfo answer shows as `fw`), which the hub
    // runs after the login: only then is the row steady.
    await until(() => {
      const row = app.devices.getState().devices.get(d.id);
      return row?.online === true && row.fw === '3.1.4';
    });
    const summary = app.devices.getState().devices.get(d.id);
    expect(app.devices.getState().visibleIds).toBe(ids);
    // A reported value the table does not show changes nothing at all.
    sock.send({ method: 'Shadow.Update', params: { state: { reported: { temp: 20 } } } });
    await until(() => app.detail.getState().id === null); // (no detail open)
    await new Promise((r) => setTimeout(r, 100));
    expect(app.devices.getState().devices.get(d.id)).toBe(summary);
  });

  it('keeps the device password on the device page when notifications come without it', async () => {
    const app = await readyApp();
    const dev = (await app.devices.getState().create({ name: 'pw' }))!;
    app.route.getState().navigate({ name: 'device', id: dev.id });
    await until(() => app.detail.getState().status === 'ready');
    expect(app.detail.getState().device?.token).toBe(dev.token);
    await fetch(`${origin}/api/v2/devices/${dev.id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pw renamed' }),
    });
    await until(() => app.detail.getState().device?.name === 'pw renamed');
    expect(app.detail.getState().device?.token).toBe(dev.token);
  });

  it('marks the data stale when the hub goes away, and reloads what it missed when it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-dash-restart-'));
    const first = createHub({ dataDir: dir, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    const urls = await first.start();
    const port = Number(new URL(urls.http).port);
    const k = first.masterKey();
    const app = createApp({
      origin: urls.http,
      addressBar: memoryAddressBar(`#key=${k}`),
      storage: sessionKeyStorage(null),
      desktop: null,
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      notifyBatchMs: 10,
    });
    apps.push(app);
    try {
      await app.start();
      await until(() => app.connection.getState().status.state === 'open');
      expect(app.connection.getState().lostAt).toBeNull();

      const before = Date.now();
      await first.stop();
      await until(() => app.connection.getState().lostAt !== null);
      expect(app.connection.getState().lostAt).toBeGreaterThanOrEqual(before);
      expect(app.connection.getState().status.state).not.toBe('open');

      // A change the dashboard cannot hear about: made while its hub is down, by another hub
      // process on the same data.
      const other = createHub({ dataDir: dir, port: 0, host: '127.0.0.1', logLevel: 'silent' });
      const otherUrls = await other.start();
      const made = await fetch(`${otherUrls.http}/api/v2/devices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'made-while-away' }),
      });
      expect(made.status).toBe(200);
      await other.stop();

      const again = createHub({ dataDir: dir, port, host: '127.0.0.1', logLevel: 'silent' });
      await again.start();
      try {
        app.connection.getState().retryNow();
        await until(() => app.connection.getState().status.state === 'open', 20_000);
        expect(app.connection.getState().lostAt).toBeNull();
        await until(() => app.devices.getState().devices.has('made-while-away'));
      } finally {
        app.dispose();
        await again.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

async function createViaApi(body: { name?: string; id?: string }): Promise<DeviceObject> {
  const res = await fetch(`${origin}/api/v2/devices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as DeviceObject;
}
