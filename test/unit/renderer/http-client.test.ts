/**
 * The REST client's failure paths against a real HTTP server that misbehaves on purpose (the
 * happy paths run against the real hub in app-controller.test.ts and the e2e suite).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, hubSocketUrl } from '../../../src/renderer/api/http-client';

let server: Server;
let base: string;
const seen: { method: string; url: string; auth: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        auth: req.headers.authorization ?? '',
        body,
      });
      const url = req.url ?? '';
      if (url.startsWith('/api/v2/devices/slow')) return; // never answers
      if (url === '/api/v2/devices/html') {
        res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>oops</h1>');
      } else if (url === '/api/v2/devices/coded') {
        res
          .writeHead(409, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 4091, message: 'shadow version conflict' } }));
      } else if (url === '/api/v2/devices') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify([{ id: 'ok' }, { id: 5 }, 'junk']));
      } else if (url === '/api/v2/devices/weird') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('"not a device"');
      } else if (url.startsWith('/api/v2/devices/d%2F1/rpc/')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('true');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('createApiClient', () => {
  const client = () => createApiClient({ baseUrl: `${base}/`, key: 'the-key', timeoutMs: 300 });

  it('sends the key as a Bearer token and escapes path parts', async () => {
    expect(await client().callRpc('d/1', 'Sys.GetInfo', undefined)).toBe(true);
    const last = seen.at(-1)!;
    expect(last).toMatchObject({
      method: 'POST',
      url: '/api/v2/devices/d%2F1/rpc/Sys.GetInfo',
      auth: 'Bearer the-key',
      body: '{}',
    });
  });

  it('keeps only valid devices from a list', async () => {
    expect((await client().listDevices()).map((d) => d.id)).toEqual(['ok']);
  });

  it('reports coded errors, plain HTTP errors, odd bodies and timeouts', async () => {
    await expect(client().getDevice('coded')).rejects.toMatchObject({ code: 4091, status: 409 });
    await expect(client().getDevice('html')).rejects.toMatchObject({ code: 500, status: 500 });
    await expect(client().getDevice('weird')).rejects.toMatchObject({
      code: 0,
      message: expect.stringContaining('unexpected'),
    });
    await expect(client().getDevice('slow')).rejects.toMatchObject({
      code: 0,
      message: expect.stringContaining('did not answer'),
    });
  });

  it('reports an unreachable hub with code 0', async () => {
    const c = createApiClient({ baseUrl: 'http://127.0.0.1:9', key: 'k' });
    await expect(c.listDevices()).rejects.toMatchObject({
      code: 0,
      status: 0,
      message: expect.stringContaining('cannot reach'),
    });
  });

  it('builds the notify URL with the key as access_token', () => {
    const u = new URL(client().notifyUrl());
    expect(u.protocol).toBe('ws:');
    expect(u.pathname).toBe('/api/v2/notify');
    expect(u.searchParams.get('access_token')).toBe('the-key');
    expect(new URL(createApiClient({ baseUrl: 'https://h', key: 'k' }).notifyUrl()).protocol).toBe(
      'wss:',
    );
  });

  it('hands out its key, for the other hub clients of the same session', () => {
    expect(client().key()).toBe('the-key');
  });

  it('builds socket URLs with query parameters, escaped, and the key last', () => {
    const u = new URL(
      hubSocketUrl('https://h:8443/', '/api/v2/local/monitor', 'k y', {
        port: '/dev/tty USB0',
        baud: '115200',
      }),
    );
    expect(u.protocol).toBe('wss:');
    expect(u.pathname).toBe('/api/v2/local/monitor');
    expect([...u.searchParams]).toEqual([
      ['port', '/dev/tty USB0'],
      ['baud', '115200'],
      ['access_token', 'k y'],
    ]);
  });
});
