/**
 * The REST RPC GET fast path (src/main/api/rpc-fast-path.ts) answers exactly as Fastify does: the
 * same call sent plainly (fast path) and with a query string (Fastify's route) gives the same
 * status, headers (but Date) and body, for a result, a device error, an offline device and bad
 * input; and every request that is not plain (CORS, a key in the query, an unknown device or key,
 * a body, percent-encoding) is left to Fastify. Answers wait for the end of their event-loop turn
 * (gateway/turn-writes.ts): a turn's many answers each reach their own request.
 */
import { connect } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectOnline,
  startTestHub,
  type RawDevice,
  type TestHub,
} from '../../support/hub-harness';
import { installRpcFastPath, type RpcFastPath } from '../../../src/main/api/rpc-fast-path';
import type { DeviceObject, Json } from '../../../src/shared/types';

interface Raw {
  status: number;
  headers: string[];
  body: string;
}

/** One request on its own socket, the reply as it came (header lines in order). */
function rawRequest(url: string, head: string): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname);
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.toString('latin1', 0, end).split('\r\n');
      const length = Number(/content-length: (\d+)/i.exec(lines.join('\n'))?.[1] ?? -1);
      if (buf.length < end + 4 + length) return;
      s.destroy();
      resolve({
        status: Number(lines[0]?.slice(9, 12)),
        headers: lines.slice(1).filter((l) => !/^date:/i.test(l)),
        body: buf.toString('utf8', end + 4, end + 4 + length),
      });
    });
    s.on('error', reject);
    s.write(head);
  });
}

describe('REST RPC GET fast path', () => {
  let t: TestHub;
  let dev: DeviceObject;
  let offline: DeviceObject;
  let raw: RawDevice;
  let fast: RpcFastPath;
  let n = 0;

  beforeAll(async () => {
    t = await startTestHub();
    dev = await t.createDevice({ id: 'fast-dev' });
    offline = await t.createDevice({ id: 'fast-off' });
    raw = await connectOnline(t, dev);
    const f = t.hub.services().rpcFastPath;
    if (f === null) throw new Error('fast path not installed at log level silent');
    fast = f;
  });
  afterAll(async () => {
    raw.close();
    await t.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}): Promise<Raw> =>
    rawRequest(
      t.http,
      `GET ${path} HTTP/1.1\r\nHost: x\r\n` +
        Object.entries({ authorization: `Bearer ${t.key}`, ...headers })
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n',
    );

  /** The device answers the next call of `method` with `answer`. */
  function answerNext(method: string, answer: (frame: Record<string, Json>) => void): void {
    void raw.call(method).then(answer);
  }

  it('answers results and device errors as Fastify does, header for header', async () => {
    const cases: Array<[string, (f: Record<string, Json>) => void]> = [
      ['an object', (f) => raw.reply(f, { a: 1, s: 'grüße' })],
      ['null', (f) => raw.reply(f, null)],
      [
        'a device error',
        (f) => raw.send({ id: f['id'], error: { code: -32601, message: 'no such method' } }),
      ],
    ];
    for (const [what, answer] of cases) {
      const m1 = `Probe${++n}`;
      const m2 = `Probe${++n}`;
      answerNext(m1, answer);
      const before = fast.answered;
      const viaFast = await get(`/api/v2/devices/${dev.id}/rpc/${m1}`);
      expect(fast.answered, what).toBe(before + 1);
      answerNext(m2, answer);
      const viaFastify = await get(`/api/v2/devices/${dev.id}/rpc/${m2}?timeout=10000`);
      expect(fast.answered, what).toBe(before + 1);
      expect(viaFast, what).toEqual(viaFastify);
    }
  });

  it('answers each of many calls a device answers in one write (one turn of answers)', async () => {
    const calls = 40;
    const methods = Array.from({ length: calls }, (_, i) => `Turn${i}`);
    const frames = Promise.all(methods.map((m) => raw.call(m)));
    const answers = Promise.all(methods.map((m) => get(`/api/v2/devices/${dev.id}/rpc/${m}`)));
    const got = await frames;
    // One write of every reply, in reverse order: the hub reads them in one turn, defers every
    // answer to its end (gateway/turn-writes.ts), and each must still reach its own request.
    const socket = (raw.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.cork();
    for (const f of [...got].reverse()) raw.reply(f, { method: f['method'] ?? null });
    socket.uncork();
    const replies = await answers;
    expect(replies.map((r) => r.status)).toEqual(methods.map(() => 200));
    expect(replies.map((r) => JSON.parse(r.body) as Json)).toEqual(
      methods.map((method) => ({ method })),
    );
  });

  it('answers an offline device as Fastify does', async () => {
    const before = fast.answered;
    const a = await get(`/api/v2/devices/${offline.id}/rpc/Sys.GetInfo`);
    const b = await get(`/api/v2/devices/${offline.id}/rpc/Sys.GetInfo?timeout=5000`);
    expect(fast.answered).toBe(before + 1);
    expect(a.status).toBe(503);
    expect(a).toEqual(b);
  });

  it('leaves every request that is not plain to Fastify', async () => {
    const before = fast.answered;
    const m = `/api/v2/devices/${dev.id}/rpc/Sys.GetInfo`;
    const cors = await get(`/api/v2/devices/${offline.id}/rpc/Sys.GetInfo`, {
      origin: 'http://example.test',
    });
    expect(cors.headers).toContain('access-control-allow-origin: http://example.test');
    expect((await get(m, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(`/api/v2/devices/nobody/rpc/Sys.GetInfo`)).status).toBe(404);
    const queryKey = await rawRequest(
      t.http,
      `GET /api/v2/devices/${offline.id}/rpc/X?access_token=${t.key} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(queryKey.status).toBe(503);
    expect((await get(`/api/v2/devices/fast%2Ddev/rpc/Bad%20Method`)).status).toBe(400);
    const withBody = await rawRequest(
      t.http,
      `GET /api/v2/devices/${offline.id}/rpc/X HTTP/1.1\r\nHost: x\r\n` +
        `authorization: Bearer ${t.key}\r\ncontent-length: 2\r\n\r\n{}`,
    );
    expect(withBody.status).toBe(503);
    expect(fast.answered).toBe(before);
  });

  it('is not installed where Fastify logs requests (info and below)', async () => {
    for (const level of ['info', 'debug', 'trace']) {
      const app = Fastify({ logger: { level, stream: { write: () => undefined } } });
      const listeners = app.server.listeners('request');
      const stub = {} as Parameters<typeof installRpcFastPath>[1];
      expect(installRpcFastPath(app, stub)).toBeNull();
      expect(app.server.listeners('request')).toEqual(listeners);
      await app.close();
    }
  });

  it('survives throwing parts: a failing key check goes to Fastify, a throwing call is a 500', async () => {
    const app = Fastify({ logger: { level: 'silent' } });
    let verifyThrows = true;
    const deps = {
      keys: {
        verify: () => {
          if (verifyThrows) throw new Error('disk I/O error');
          return { id: 'k', created: 0, last_used: 0 };
        },
      },
      devices: { exists: () => true, assertExists: () => undefined },
      gateway: {
        call: () => {
          throw new Error('boom');
        },
      },
      rpcTimeoutMs: 1000,
      maxRpcTimeoutMs: 1000,
      maxMessageBytes: 8192,
    } as unknown as Parameters<typeof installRpcFastPath>[1];
    const stats = installRpcFastPath(app, deps);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const head =
        'GET /api/v2/devices/d1/rpc/X HTTP/1.1\r\nHost: x\r\nauthorization: Bearer k\r\n\r\n';
      expect((await rawRequest(url, head)).status).toBe(404); // Fastify: no such route here
      expect(stats?.answered).toBe(0);
      verifyThrows = false;
      const r = await rawRequest(url, head);
      expect(r.status).toBe(500);
      expect(JSON.parse(r.body)).toEqual({ error: { code: 500, message: expect.any(String) } });
      expect(stats?.answered).toBe(1);
    } finally {
      await app.close();
    }
  });
});
