/**
 * The device method HTTP.Request (PROTOCOL.md 2) end to end: a real hub on port 0, a raw device
 * socket, a local HTTP server as the target. Loopback is refused by default, so the tests that
 * expect success turn `data.httpAllowLoopback` on; the refusal tests run on a hub with defaults.
 */
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectOnline,
  openNotify,
  sleep,
  startTestHub,
  type RawDevice,
  type TestHub,
  waitFor,
} from '../../support/hub-harness';
import type { DataLimits } from '../../../src/main/config';
import type { Json, Notification } from '../../../src/shared/types';
import { ERRORS } from '../../../src/shared/errors';

interface Target {
  port: number;
  hits: string[];
  close(): Promise<void>;
}

/** A target on `host`: `/hello`, `/big/<n>`, `/hang`, `/redirect?to=<url>`, `/echo`. */
async function startTarget(host = '127.0.0.1'): Promise<Target> {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      hits.push(path);
      if (path === '/hello') {
        res.setHeader('x-target', 'yes');
        res.end('hello device');
      } else if (path === '/echo') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            method: req.method,
            body: Buffer.concat(chunks).toString(),
            headers: req.headers,
          }),
        );
      } else if (path.startsWith('/big/')) res.end('x'.repeat(Number(path.slice(5))));
      else if (path === '/hang') return;
      else if (path.startsWith('/redirect?to=')) {
        res.writeHead(302, { location: decodeURIComponent(path.slice(13)) });
        res.end();
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

let nextId = 1;

/** Sends HTTP.Request with an id and resolves with the reply frame. */
async function request(
  raw: RawDevice,
  params: Json,
  timeoutMs = 5000,
): Promise<Record<string, Json>> {
  const id = nextId++;
  raw.send({ id, method: 'HTTP.Request', params });
  return raw.next((f) => f['id'] === id && f['method'] === undefined, timeoutMs);
}

function errorCode(reply: Record<string, Json>): number | undefined {
  const e = reply['error'] as { code?: number } | undefined;
  return e?.code;
}

/** The result notification (`{"request","response"|"error"}`), not the params one. */
function isResult(n: Notification, device: string): boolean {
  if (n.name !== 'rpc.out.HTTP.Request' || n.id !== device) return false;
  const d = n.data as Record<string, Json> | null;
  return d !== null && typeof d === 'object' && 'request' in d;
}

async function hubWith(
  data: Partial<DataLimits>,
): Promise<{ t: TestHub; raw: RawDevice; device: string }> {
  const t = await startTestHub({ data });
  const dev = await t.createDevice();
  const raw = await connectOnline(t, dev);
  return { t, raw, device: dev.id };
}

describe('HTTP.Request with loopback allowed', () => {
  let t: TestHub;
  let raw: RawDevice;
  let device: string;
  let target: Target;

  beforeAll(async () => {
    ({ t, raw, device } = await hubWith({
      httpAllowLoopback: true,
      httpTimeoutMs: 300,
      maxHttpResponseBytes: 1000,
      maxHttpRequestBodyBytes: 100,
      maxHttpNotifyBodyChars: 500,
      httpBurst: 100,
    }));
    target = await startTarget();
  });
  afterAll(async () => {
    raw.close();
    await t.stop();
    await target.close();
  });

  it('replies with status, headers and body, and publishes params then result', async () => {
    const notify = await openNotify(t);
    const url = `http://127.0.0.1:${target.port}/hello`;
    const reply = await request(raw, { url, method: 'GET' });
    expect(reply['result']).toMatchObject({
      status: 200,
      body: 'hello device',
      headers: { 'x-target': 'yes' },
    });
    const params = await notify.next(
      (n) => n.name === 'rpc.out.HTTP.Request' && !isResult(n, device),
    );
    expect(params.data).toEqual({ url, method: 'GET' });
    const result = await notify.next((n) => isResult(n, device));
    expect(result.data).toMatchObject({
      request: { url, method: 'GET' },
      response: { status: 200, body: 'hello device' },
    });
    notify.ws.close();
    // Stored in the notification log like every notification (its batch commits a moment later).
    await waitFor(
      async () => {
        const logs = await t.api<Array<{ name: string; data: Json }>>('POST', '/api/v2/logs', {});
        return JSON.stringify(logs.body).includes('hello device');
      },
      5000,
      'the result in the stored log',
    );
  });

  it('sends method, body and headers; hop-by-hop and Host from the device are dropped', async () => {
    const reply = await request(raw, {
      url: `http://127.0.0.1:${target.port}/echo`,
      method: 'post',
      body: { temp: 21.5 },
      headers: { 'X-Sensor': 'a1', Host: 'evil.test', Connection: 'upgrade', Upgrade: 'h2c' },
    });
    const echoed = JSON.parse((reply['result'] as { body: string }).body) as {
      method: string;
      body: string;
      headers: Record<string, string>;
    };
    expect(echoed.method).toBe('POST');
    expect(echoed.body).toBe('{"temp":21.5}');
    expect(echoed.headers['x-sensor']).toBe('a1');
    expect(echoed.headers['content-type']).toBe('application/json');
    expect(echoed.headers['host']).toBe(`127.0.0.1:${target.port}`);
    expect(echoed.headers['upgrade']).toBeUndefined();
  });

  it("refuses the hub's own port even with loopback allowed", async () => {
    const hubPort = new URL(t.http).port;
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
      const reply = await request(raw, { url: `http://${host}:${hubPort}/api/v2/devices` });
      expect(errorCode(reply), host).toBe(ERRORS.http_destination_forbidden.code);
    }
  });

  it('times out at httpTimeoutMs (5047)', async () => {
    const t0 = Date.now();
    const reply = await request(raw, { url: `http://127.0.0.1:${target.port}/hang` });
    expect(errorCode(reply)).toBe(ERRORS.http_timeout.code);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('caps the response at maxHttpResponseBytes (edge: 1000 passes, 1001 is 5027)', async () => {
    const notify = await openNotify(t);
    const ok = await request(raw, { url: `http://127.0.0.1:${target.port}/big/1000` });
    expect((ok['result'] as { body: string }).body).toHaveLength(1000);
    // The notification (and the stored log) keeps maxHttpNotifyBodyChars of it.
    const n = await notify.next((x) => isResult(x, device));
    const notified = (n.data as { response: { body: string; truncated?: boolean } }).response;
    expect(notified.body).toHaveLength(500);
    expect(notified.truncated).toBe(true);
    notify.ws.close();
    const big = await request(raw, { url: `http://127.0.0.1:${target.port}/big/1001` });
    expect(errorCode(big)).toBe(ERRORS.http_response_too_large.code);
  });

  it("refuses a redirect to the hub's own port", async () => {
    const to = encodeURIComponent(`${t.http}/api/v2/devices`);
    const reply = await request(raw, { url: `http://127.0.0.1:${target.port}/redirect?to=${to}` });
    expect(errorCode(reply)).toBe(ERRORS.http_destination_forbidden.code);
  });

  it('without an id: no reply, the result notification still comes', async () => {
    const notify = await openNotify(t);
    const before = raw.frames.length;
    raw.send({ method: 'HTTP.Request', params: { url: `http://127.0.0.1:${target.port}/hello` } });
    const result = await notify.next((n) => isResult(n, device));
    expect(result.data).toMatchObject({ response: { status: 200 } });
    await sleep(100);
    expect(raw.frames.slice(before)).toEqual([]);
    // A failure without an id is published too, and answered with nothing.
    raw.send({
      method: 'HTTP.Request',
      params: { url: `http://127.0.0.1:${target.port}/big/5000` },
    });
    const failed = await notify.next(
      (n) => isResult(n, device) && 'error' in (n.data as Record<string, Json>),
    );
    expect(failed.data).toMatchObject({ error: { code: ERRORS.http_response_too_large.code } });
    await sleep(100);
    expect(raw.frames.slice(before)).toEqual([]);
    notify.ws.close();
  });

  it('caps the request body at maxHttpRequestBodyBytes (edge: 100 passes, 101 is 413)', async () => {
    const url = `http://127.0.0.1:${target.port}/echo`;
    const ok = await request(raw, { url, method: 'POST', body: 'b'.repeat(100) });
    expect(ok['result']).toMatchObject({ status: 200 });
    const big = await request(raw, { url, method: 'POST', body: 'b'.repeat(101) });
    expect(errorCode(big)).toBe(413);
  });

  it('invalid params are -32602, a non-http scheme too', async () => {
    for (const params of [
      { method: 'GET' },
      { url: 'file:///etc/passwd' },
      { url: 'http://x/', method: 'CONNECT' },
      { url: 'http://x/', headers: { 'x-a': 'a\r\nb: c' } },
    ] as Json[]) {
      expect(errorCode(await request(raw, params)), JSON.stringify(params)).toBe(-32602);
    }
  });
});

describe('HTTP.Request refusals with default configuration', () => {
  let t: TestHub;
  let raw: RawDevice;
  let target: Target;

  beforeAll(async () => {
    ({ t, raw } = await hubWith({ httpBurst: 100 }));
    target = await startTarget();
  });
  afterAll(async () => {
    raw.close();
    await t.stop();
    await target.close();
  });

  it.each([
    '127.0.0.1',
    'localhost',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '2130706433',
    '0177.0.0.1',
    '0x7f.1',
    '0.0.0.0',
    '169.254.169.254',
    '[fe80::1]',
    '224.0.0.1',
  ])('refuses http://%s with 4036 and never connects', async (host) => {
    const port = host === '169.254.169.254' ? 80 : target.port;
    const reply = await request(raw, { url: `http://${host}:${port}/hello` });
    expect(errorCode(reply)).toBe(ERRORS.http_destination_forbidden.code);
    expect(target.hits).toEqual([]);
  });
});

/** A non-loopback IPv4 address of this machine, if it has one (for LAN-side redirect tests). */
const lanIp = Object.values(networkInterfaces())
  .flatMap((l) => l ?? [])
  .find((i) => i.family === 'IPv4' && !i.internal)?.address;

describe.skipIf(lanIp === undefined)('HTTP.Request through a LAN address (defaults)', () => {
  let t: TestHub;
  let raw: RawDevice;
  let target: Target;
  let loopbackTarget: Target;

  beforeAll(async () => {
    ({ t, raw } = await hubWith({ httpBurst: 100 }));
    target = await startTarget('0.0.0.0');
    loopbackTarget = await startTarget('127.0.0.1');
  });
  afterAll(async () => {
    raw.close();
    await t.stop();
    await target.close();
    await loopbackTarget.close();
  });

  it('reaches a server on the LAN address, but not a redirect from it to loopback', async () => {
    const ok = await request(raw, { url: `http://${lanIp}:${target.port}/hello` });
    expect(ok['result']).toMatchObject({ status: 200, body: 'hello device' });
    for (const to of [
      `http://127.0.0.1:${loopbackTarget.port}/hello`,
      `http://localhost:${loopbackTarget.port}/hello`,
    ]) {
      const reply = await request(raw, {
        url: `http://${lanIp}:${target.port}/redirect?to=${encodeURIComponent(to)}`,
      });
      expect(errorCode(reply), to).toBe(ERRORS.http_destination_forbidden.code);
    }
    expect(loopbackTarget.hits).toEqual([]);
  });

  it("refuses the hub's port on the LAN address", async () => {
    const reply = await request(raw, { url: `http://${lanIp}:${new URL(t.http).port}/` });
    expect(errorCode(reply)).toBe(ERRORS.http_destination_forbidden.code);
  });
});

describe('HTTP.Request switch and rate limit', () => {
  it('disabled: every request is 4037, nothing is fetched', async () => {
    const target = await startTarget();
    const { t, raw } = await hubWith({ httpEnabled: false, httpAllowLoopback: true });
    try {
      const reply = await request(raw, { url: `http://127.0.0.1:${target.port}/hello` });
      expect(reply['error']).toMatchObject({ code: ERRORS.http_disabled.code });
      expect(target.hits).toEqual([]);
    } finally {
      raw.close();
      await t.stop();
      await target.close();
    }
  });

  it('a device over its rate gets 4297 (edge: the burst passes), others keep theirs', async () => {
    const target = await startTarget();
    const { t, raw } = await hubWith({
      httpAllowLoopback: true,
      httpBurst: 2,
      httpRequestsPerMinute: 1,
    });
    try {
      const url = `http://127.0.0.1:${target.port}/hello`;
      expect((await request(raw, { url }))['result']).toMatchObject({ status: 200 });
      expect((await request(raw, { url }))['result']).toMatchObject({ status: 200 });
      expect(errorCode(await request(raw, { url }))).toBe(ERRORS.http_rate_limited.code);
      const other = await connectOnline(t, await t.createDevice());
      expect((await request(other, { url }))['result']).toMatchObject({ status: 200 });
      other.close();
      expect(target.hits).toHaveLength(3);
    } finally {
      raw.close();
      await t.stop();
      await target.close();
    }
  });

  it('the hub-wide in-flight cap refuses with 4298 while requests wait', async () => {
    const target = await startTarget();
    const { t, raw } = await hubWith({
      httpAllowLoopback: true,
      httpMaxInFlight: 1,
      httpTimeoutMs: 500,
    });
    try {
      const hang = request(raw, { url: `http://127.0.0.1:${target.port}/hang` });
      await sleep(50);
      const busy = await request(raw, { url: `http://127.0.0.1:${target.port}/hello` });
      expect(errorCode(busy)).toBe(ERRORS.http_busy.code);
      expect(errorCode(await hang)).toBe(ERRORS.http_timeout.code);
      // The slot is back.
      const ok = await request(raw, { url: `http://127.0.0.1:${target.port}/hello` });
      expect(ok['result']).toMatchObject({ status: 200 });
    } finally {
      raw.close();
      await t.stop();
      await target.close();
    }
  });
});
