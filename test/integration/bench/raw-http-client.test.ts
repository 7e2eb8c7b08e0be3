/**
 * The benchmark's raw keep-alive GET client (bench/raw-http-client.ts) against a real node:http
 * server: one socket per caller reused across calls, the Authorization header, bodies that arrive
 * in pieces, statuses, a refused chunked reply, and a reconnect after the server closes.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RawHttpPool } from '../../../bench/raw-http-client';

let server: Server | undefined;
let pool: RawHttpPool | undefined;
afterEach(async () => {
  pool?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = pool = undefined;
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('RawHttpPool', () => {
  it('reuses one socket per caller and sends the key', async () => {
    const seen: IncomingMessage[] = [];
    const sockets = new Set<unknown>();
    const url = await serve((req, res) => {
      seen.push(req);
      sockets.add(req.socket);
      const body = JSON.stringify({ path: req.url, n: seen.length, text: 'grüße' });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      // Headers and body in separate writes, the body itself in two pieces.
      res.write(body.slice(0, 5));
      setTimeout(() => res.end(body.slice(5)), 5);
    });
    pool = new RawHttpPool(url, 'sekret', 2);
    for (let i = 1; i <= 5; i++) {
      const r = await pool.get(i % 2, `/x/${i}`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ path: `/x/${i}`, n: i, text: 'grüße' });
    }
    expect(sockets.size).toBe(2);
    expect(seen.every((r) => r.headers.authorization === 'Bearer sekret')).toBe(true);
  });

  it('gives statuses, refuses a chunked reply, and reconnects after a close', async () => {
    let calls = 0;
    const url = await serve((req, res) => {
      calls++;
      if (req.url === '/missing') {
        res.writeHead(404, { 'content-length': '2' });
        res.end('{}');
      } else if (req.url === '/chunked') {
        res.write('a'); // no Content-Length: node:http sends it chunked
        res.end('b');
      } else {
        res.writeHead(200, { 'content-length': '2', connection: 'close' });
        res.end('ok');
      }
    });
    pool = new RawHttpPool(url, null, 1);
    expect(await pool.get(0, '/missing')).toEqual({ status: 404, body: '{}' });
    await expect(pool.get(0, '/chunked')).rejects.toThrow(/without Content-Length/);
    expect(await pool.get(0, '/close')).toEqual({ status: 200, body: 'ok' });
    // The server closed that socket: the next call opens a new one.
    await new Promise((r) => setTimeout(r, 20));
    expect(await pool.get(0, '/close')).toEqual({ status: 200, body: 'ok' });
    expect(calls).toBe(4);
    await expect(pool.get(5, '/x')).rejects.toThrow(/no connection 5/);
  });
});
