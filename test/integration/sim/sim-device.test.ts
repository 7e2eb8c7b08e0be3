import { afterEach, describe, expect, it } from 'vitest';
import { SimCallError, SimDevice, type SimDeviceOptions } from '../../../src/main/sim/sim-device';
import { SPOOL_FILE, SPOOL_OLD_FILE } from '../../../src/main/sim/sim-spool';
import { FakeHub, type FakeSession, type JsonFrame } from '../../support/fake-hub';

const PASS = 'pass-1';
const ID = 'd1';

let hub: FakeHub | null = null;
const devices: SimDevice[] = [];

async function setup(
  opts: Partial<SimDeviceOptions> = {},
  hubOpts: ConstructorParameters<typeof FakeHub>[0] = {},
): Promise<{ hub: FakeHub; dev: SimDevice; session: FakeSession }> {
  hub = new FakeHub({ devices: { [PASS]: ID }, ...hubOpts });
  await hub.start();
  const dev = new SimDevice({
    url: hub.url,
    password: PASS,
    id: ID,
    reconnect: { initialMs: 50, maxMs: 200 },
    seed: 1,
    ...opts,
  });
  devices.push(dev);
  const ready = new Promise<void>((r) => dev.once('ready', r));
  dev.start();
  const session = await hub.waitForSession(ID);
  if (hubOpts.getInfoOnConnect !== false) {
    await ready;
    await hub.waitForInfo(session); // the reply has reached the hub, so frame counts are settled
  }
  return { hub, dev, session };
}

afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop()));
  await hub?.stop();
  hub = null;
});

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SimDevice connection (PROTOCOL.md 1)', () => {
  it('authenticates with Authorization: Bearer, sends Origin, and becomes ready after Sys.GetInfo', async () => {
    const { hub, dev, session } = await setup();
    expect(session.headers.authorization).toBe(`Bearer ${PASS}`);
    expect(session.url).toBe('/api/v2/rpc');
    expect(session.headers.origin).toBe(hub.url);
    expect(session.protocol).toBe('');
    expect(dev.connected).toBe(true);
    expect(dev.ready).toBe(true);
    const info = await hub.waitForInfo(session);
    expect(info).toMatchObject({
      id: ID,
      arch: 'sim',
      fw_version: '1.0.0',
      app: 'sim',
      reboot_reason: 'power-on',
    });
    for (const k of ['fw_id', 'uptime', 'ram_free', 'mac', 'public_key'])
      expect(info).toHaveProperty(k);
    expect(dev.timeToReadyMs).toBeGreaterThan(0);
  });

  it('authMode query puts the password in ?access_token= and sends no Authorization header', async () => {
    const { session } = await setup({ authMode: 'query' });
    expect(session.headers.authorization).toBeUndefined();
    expect(new URL(session.url, 'http://x').searchParams.get('access_token')).toBe(PASS);
  });

  it('offers a subprotocol when asked and accepts the hub picking it', async () => {
    const { session } = await setup({ subprotocol: ['json-rpc', 'dash.mongoose-os.com'] });
    const offered = (session.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    expect(offered).toEqual(['json-rpc', 'dash.mongoose-os.com']);
    expect(session.protocol).toBe('json-rpc');
  });

  it('answers WebSocket pings', async () => {
    const { session } = await setup();
    await session.ping();
    await session.ping();
  });

  it('a refused password (401) is retried with back-off and never opens', async () => {
    hub = new FakeHub({ devices: {} });
    await hub.start();
    const dev = new SimDevice({
      url: hub.url,
      password: 'wrong',
      reconnect: { initialMs: 30, maxMs: 60 },
    });
    devices.push(dev);
    const failures: string[] = [];
    dev.on('connect-failed', (m) => failures.push(m));
    dev.start();
    await sleep(250);
    expect(hub.rejected).toBeGreaterThanOrEqual(3);
    expect(hub.sessions).toHaveLength(0);
    expect(failures[0]).toContain('401');
    expect(dev.connected).toBe(false);
  });

  it('refuses a non-ws URL with a coded error', () => {
    expect(() => new SimDevice({ url: 'http://x/api/v2/rpc', password: 'p' })).toThrow(
      /ws:\/\/ or wss:\/\//,
    );
    expect(() => new SimDevice({ url: 'nope', password: 'p' })).toThrow(/not a URL/);
  });
});

describe('SimDevice frames (PROTOCOL.md 2)', () => {
  it('replies {id,result} without jsonrpc or dst, and copies tag', async () => {
    const { session } = await setup();
    const reply = await session.call('FS.List', undefined, { tag: 'tag-1' });
    expect(reply).toEqual({ id: reply.id, tag: 'tag-1', result: [] });
    const raw = session.frames.map((f) => f.raw).join('\n');
    expect(raw).not.toContain('jsonrpc');
    expect(raw).not.toContain('"dst"');
  });

  it('unknown methods get -32601; bad params get -32602', async () => {
    const { session } = await setup();
    expect((await session.call('No.Such', {})).error).toEqual({
      code: -32601,
      message: 'method not found',
    });
    expect(((await session.call('FS.Get', { filename: 1 })).error as { code: number }).code).toBe(
      -32602,
    );
  });

  it('never answers a reply, an error or garbage, and stays up', async () => {
    const { dev, session } = await setup();
    const before = session.frames.length;
    session.sendRaw('{"id":999,"result":true}');
    session.sendRaw('{"id":998,"error":{"code":1,"message":"x"}}');
    session.sendRaw('{"error":{"code":-32700,"message":"parse error"}}');
    session.sendRaw('this is not json');
    session.sendRaw('[1,2,3]');
    session.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await sleep(150);
    expect(session.frames.length).toBe(before);
    expect(dev.counters.badFrames).toBe(4);
    expect(dev.counters.strayReplies).toBe(2);
    expect(await session.result('RPC.List')).toContain('Sys.GetInfo');
  });

  it('RPC.List and RPC.Describe', async () => {
    const { session } = await setup();
    const list = (await session.result('RPC.List')) as string[];
    expect(list).toEqual(
      expect.arrayContaining(['FS.Get', 'OTA.Begin', 'Config.Set', 'Shadow.Delta']),
    );
    expect(await session.result('RPC.Describe', { name: 'FS.Rename' })).toEqual({
      name: 'FS.Rename',
      args_fmt: '{src: %Q, dst: %Q}',
    });
  });

  it('emits call events for hub calls', async () => {
    const { dev, session } = await setup();
    const seen: [string, unknown][] = [];
    dev.on('call', (m, p) => seen.push([m, p]));
    await session.call('FS.List', { x: 1 });
    expect(seen).toEqual([['FS.List', { x: 1 }]]);
  });
});

describe('SimDevice file system', () => {
  it('Put/List/ListExt/Rename/Remove, and missing files answer -1 "file not found"', async () => {
    const { dev, session } = await setup({ files: { 'boot.cfg': Buffer.from('x=1') } });
    expect(await session.result('FS.Put', { filename: 'a.txt', data: b64('hello ') })).toEqual({
      filename: 'a.txt',
      written: 6,
    });
    await session.result('FS.Put', { filename: 'a.txt', data: b64('world'), append: true });
    expect(await session.result('FS.List')).toEqual(['boot.cfg', 'a.txt']);
    expect(await session.result('FS.ListExt')).toEqual([
      { name: 'boot.cfg', size: 3 },
      { name: 'a.txt', size: 11 },
    ]);
    expect(await session.result('FS.Rename', { src: 'a.txt', dst: 'b.txt' })).toBe(true);
    expect(dev.fs.read('b.txt')?.toString()).toBe('hello world');
    expect(await session.result('FS.Remove', { filename: 'b.txt' })).toBe(true);
    for (const [m, p] of [
      ['FS.Get', { filename: 'b.txt' }],
      ['FS.Remove', { filename: 'b.txt' }],
      ['FS.Rename', { src: 'b.txt', dst: 'c' }],
    ] as const) {
      const err = (await session.call(m, p)).error as { code: number; message: string };
      expect(err.code).toBe(-1);
      expect(err.message).toMatch(/file not found/);
    }
    expect(dev.fs.list()).toEqual(['boot.cfg']);
  });

  it('serves a file larger than one chunk through chunked FS.Get until left is 0', async () => {
    const big = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) % 256));
    const { session } = await setup({ files: { 'log.bin': big } });
    const parts: Buffer[] = [];
    let offset = 0;
    let calls = 0;
    for (;;) {
      const r = (await session.result('FS.Get', { filename: 'log.bin', offset, len: 4096 })) as {
        data: string;
        left: number;
      };
      calls++;
      const chunk = Buffer.from(r.data, 'base64');
      parts.push(chunk);
      offset += chunk.length;
      expect(r.left).toBe(big.length - offset);
      if (r.left === 0) break;
    }
    expect(calls).toBe(3);
    expect(Buffer.concat(parts).equals(big)).toBe(true);
    for (const f of session.frames) expect(f.raw.length).toBeLessThan(8 * 1024);
  });
});

describe('SimDevice shadow and config', () => {
  it('Shadow.Delta: applies, reports with a Dash.Shadow.Update notification, replies true', async () => {
    const { dev, session } = await setup({ state: { led: false } });
    const from = session.frames.length;
    const reply = await session.call('Shadow.Delta', {
      state: { led: true },
      version: 4,
      timestamp: 1,
    });
    expect(reply.result).toBe(true);
    const update = await session.waitFor(
      (f) => f.json?.method === 'Dash.Shadow.Update',
      2000,
      from,
    );
    expect(update.json).toEqual({
      method: 'Dash.Shadow.Update',
      params: { state: { reported: { led: true } } },
    });
    expect(dev.core.state).toEqual({ led: true });
  });

  it('Shadow.Delta as a notification (no id): reports, sends no reply', async () => {
    const { session } = await setup();
    const from = session.frames.length;
    session.notify('Shadow.Delta', { state: { mode: 'eco' }, version: 2, timestamp: 1 });
    await session.waitFor((f) => f.json?.method === 'Dash.Shadow.Update', 2000, from);
    await sleep(100);
    expect(session.frames.slice(from).filter((f) => f.json && 'result' in f.json)).toHaveLength(0);
  });

  it('Config.Get/Set/Save on a nested config; only saved changes survive Sys.Reboot', async () => {
    const { hub, session } = await setup({ config: { app: { interval: 5 } } });
    expect(await session.result('Config.Get', { key: 'app.interval' })).toBe(5);
    expect(await session.result('Config.Get', { key: 'dash.server' })).toBe(hub.url);
    expect((await session.call('Config.Get', { key: 'nope.nope' })).error).toEqual({
      code: 404,
      message: 'invalid config key',
    });
    expect(await session.result('Config.Set', { config: { app: { interval: 7 } } })).toEqual({
      saved: false,
    });
    expect(
      await session.result('Config.Set', { config: { app: { name: 'kept' } }, save: true }),
    ).toEqual({ saved: true });
    expect(await session.result('Config.Set', { config: { app: { interval: 9 } } })).toEqual({
      saved: false,
    });
    expect(await session.result('Sys.Reboot', { delay_ms: 10 })).toBe(true);
    const s2 = await hub.waitForSession(ID, 2);
    await hub.waitForInfo(s2);
    expect(await s2.result('Config.Get', { key: 'app' })).toEqual({ interval: 7, name: 'kept' });
    await s2.result('Config.Set', { config: { app: { interval: 11 } } });
    expect(await s2.result('Config.Save')).toEqual({ saved: true });
    await s2.result('Sys.Reboot', { delay_ms: 10 });
    const s3 = await hub.waitForSession(ID, 3);
    await hub.waitForInfo(s3);
    expect(await s3.result('Config.Get', { key: 'app.interval' })).toBe(11);
  });
});

describe('SimDevice reboot, spool, device calls, periodic reports', () => {
  it('Sys.Reboot replies true, drops the socket after delay_ms and reconnects as a fresh boot', async () => {
    const { hub, dev, session } = await setup();
    const t0 = performance.now();
    const reboots: string[] = [];
    dev.on('reboot', (r) => reboots.push(r));
    expect(await session.result('Sys.Reboot', { delay_ms: 150 })).toBe(true);
    const code = await session.waitClosed();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(code).toBe(1006); // no close frame: the device just went away
    const s2 = await hub.waitForSession(ID, 2);
    const info = await hub.waitForInfo(s2);
    expect(info).toMatchObject({ reboot_reason: 'soft reset', uptime: 0 });
    expect(reboots).toEqual(['soft reset']);
  });

  it('store() spools lines, sends DB.NewData true, and rotates at 32 KB', async () => {
    const { dev, session } = await setup();
    const from = session.frames.length;
    expect(dev.store('temp_insert', [21.5, 'kitchen'])).toBe(true);
    const note = await session.waitFor((f) => f.json?.method === 'DB.NewData', 2000, from);
    expect(note.json).toEqual({ method: 'DB.NewData', params: true });
    expect(dev.fs.read(SPOOL_FILE)?.toString()).toBe('temp_insert [21.5,"kitchen"]\n');
    const payload = 'v'.repeat(1000);
    for (let i = 0; i < 40; i++) dev.store('bulk', [i, payload]);
    expect(dev.fs.has(SPOOL_OLD_FILE)).toBe(true);
    expect(dev.fs.size(SPOOL_OLD_FILE)).toBeGreaterThan(32 * 1024);
    expect(dev.fs.size(SPOOL_FILE) ?? 0).toBeLessThanOrEqual(32 * 1024);
    // The hub can drain it with FS.Get like PROTOCOL.md 5 says.
    const r = (await session.result('FS.Get', { filename: SPOOL_OLD_FILE, len: 100 })) as {
      data: string;
    };
    expect(Buffer.from(r.data, 'base64').toString()).toMatch(
      /^temp_insert \[21\.5,"kitchen"\]\nbulk \[0,"vvv/,
    );
    await sleep(50);
    expect(session.notifications('DB.NewData')).toHaveLength(41);
  });

  it('call() sends {id,method,params}, resolves with the result, rejects with the error code', async () => {
    const { session, dev } = await setup(
      {},
      {
        onDeviceRequest: (_s, method, params) =>
          method === 'Echo'
            ? { result: params as JsonFrame }
            : { error: { code: 42, message: 'nope' } },
      },
    );
    expect(await dev.call('Echo', { a: 1 })).toEqual({ a: 1 });
    const req = session.frames.find((f) => f.json?.method === 'Echo')?.json;
    expect(req).toEqual({ id: expect.any(Number), method: 'Echo', params: { a: 1 } });
    await expect(dev.call('Fail')).rejects.toMatchObject({ kind: 'reply', code: 42 });
  });

  it('call() times out, and fails at once when offline or when the session drops', async () => {
    const { dev, session } = await setup({}, { onDeviceRequest: () => undefined });
    await expect(dev.call('Silent', {}, 100)).rejects.toMatchObject({ kind: 'timeout' });
    const pending = dev.call('Silent', {}, 5000);
    session.ws.terminate();
    await expect(pending).rejects.toBeInstanceOf(SimCallError);
    await expect(pending).rejects.toMatchObject({ kind: 'offline' });
    await sleep(5);
    if (!dev.connected) await expect(dev.call('X')).rejects.toMatchObject({ kind: 'offline' });
  });

  it('sendNotification sends {method,params} with no id and returns false when offline', async () => {
    const { dev, session } = await setup({ reconnect: false });
    expect(dev.sendNotification('HTTP.Request', { url: 'http://x' })).toBe(true);
    const f = await session.waitFor((fr) => fr.json?.method === 'HTTP.Request');
    expect(f.json).toEqual({ method: 'HTTP.Request', params: { url: 'http://x' } });
    session.ws.close();
    await new Promise((r) => dev.once('close', r));
    expect(dev.sendNotification('X', 1)).toBe(false);
  });

  it('sends periodic Dash.Shadow.Update and Log when enabled, nothing when disabled', async () => {
    const { dev, session } = await setup({ shadowIntervalMs: 40, logIntervalMs: 60 });
    await sleep(400);
    const shadows = session.notifications('Dash.Shadow.Update');
    const logs = session.notifications('Log');
    expect(shadows.length).toBeGreaterThanOrEqual(4);
    expect(logs.length).toBeGreaterThanOrEqual(3);
    expect(shadows[0]?.params).toEqual({
      state: {
        reported: {
          uptime: expect.any(Number),
          ram_free: expect.any(Number),
          temperature: expect.any(Number),
        },
      },
    });
    expect(logs[0]?.params).toEqual({
      fd: 1,
      data: expect.stringContaining('uptime'),
      t: expect.any(Number),
      seq: 1,
    });
    expect((logs[1]?.params as { seq: number }).seq).toBe(2);
    await dev.stop();
    const n = session.frames.length;
    await sleep(150);
    expect(session.frames.length).toBe(n);
  });

  it('without periodic features, sends nothing unprompted', async () => {
    const { session } = await setup();
    const n = session.frames.length;
    await sleep(300);
    expect(session.frames.length).toBe(n);
  });
});
