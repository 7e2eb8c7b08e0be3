/**
 * Request bodies as real clients send them, and the JSON error shape for everything that goes
 * wrong before a route runs (PROTOCOL.md 4: errors, CORS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../support/hub-harness';
import type { DeviceObject } from '../../../src/shared/types';

interface Raw {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

describe('request bodies, unknown routes and CORS (PROTOCOL.md 4)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  async function raw(
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string>; key?: string | null } = {},
  ): Promise<Raw> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.key !== null) headers['authorization'] = `Bearer ${init.key ?? t.key}`;
    const res = await fetch(t.http + path, { method, headers, body: init.body });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  async function deviceCount(): Promise<number> {
    return (await t.api<DeviceObject[]>('GET', '/api/v2/devices')).body.length;
  }

  it.each([
    ['application/json', '{"name": "x"'],
    ['application/json', '{name: "x"}'],
    ['application/json; charset=utf-8', '[1,2'],
    ['text/plain', '{"oops"}'],
  ])('invalid JSON (%s) is 400 with code 4001 and creates nothing', async (ct, body) => {
    const n = await deviceCount();
    const r = await raw('POST', '/api/v2/devices', { body, headers: { 'content-type': ct } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: { code: 4001, message: expect.any(String) } });
    expect(await deviceCount()).toBe(n);
  });

  it('a 2 MB body is refused with 413 and the hub keeps serving', async () => {
    const n = await deviceCount();
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const r = await raw('POST', '/api/v2/devices', {
      body: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ error: { code: 413, message: expect.any(String) } });
    // The same through a form-encoded body and on another route.
    const r2 = await raw('POST', '/api/v2/logs', {
      body: 'start=' + '0'.repeat(2 * 1024 * 1024),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r2.status).toBe(413);
    expect(await deviceCount()).toBe(n);
  });

  it('JSON sent as application/x-www-form-urlencoded (curl -d) still works', async () => {
    const r = await raw('POST', '/api/v2/devices', {
      body: '{"name":"from curl","id":"curl-1"}',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: 'curl-1', name: 'from curl' });
    const shadow = await raw('POST', '/api/v2/devices/curl-1/shadow', {
      body: '{"state":{"desired":{"on":true}}}',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(shadow.status).toBe(200);
    expect(shadow.json).toMatchObject({ state: { desired: { on: true } }, version: 1 });
  });

  it('plain form fields are read as an object', async () => {
    const r = await raw('POST', '/api/v2/devices', {
      body: 'name=form+device&id=form-1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: 'form-1', name: 'form device' });
  });

  it('a JSON body without a content type, or with none at all, is read as JSON', async () => {
    const r = await raw('PUT', '/api/v2/devices/form-1', { body: '{"name":"renamed"}' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: 'renamed' });
    // An empty POST creates a device with defaults.
    const e = await raw('POST', '/api/v2/devices', { body: '' });
    expect(e.status).toBe(200);
  });

  it.each([
    ['POST', '/api/v2/devices', { name: 5 }, 'name'],
    ['POST', '/api/v2/devices', { id: ['a'] }, 'id'],
    ['PUT', '/api/v2/devices/form-1', { name: false }, 'name'],
    ['POST', '/api/v2/devices/form-1', { name: { x: 1 } }, 'name'],
    ['POST', '/api/v2/logs', { limit: 'ten' }, 'limit'],
    ['POST', '/api/v2/logs', { start: -1 }, 'start'],
    ['POST', '/api/v2/devices/form-1/shadow', { state: { desired: 'on' } }, 'desired'],
    ['POST', '/api/v2/devices/form-1/shadow', { version: 'one' }, 'version'],
  ])('%s %s with wrong types is 400 naming the field', async (method, path, body, field) => {
    const n = await deviceCount();
    const r = await t.api<{ error: { code: number; message: string } }>(method, path, body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(4002);
    expect(r.body.error.message).toContain(field);
    expect(await deviceCount()).toBe(n);
  });

  it('an unknown route is a JSON 404, with or without a key', async () => {
    for (const key of [undefined, null]) {
      for (const [method, path] of [
        ['GET', '/api/v2/nope'],
        ['POST', '/api/v2/devices/x/y/z'],
        ['PATCH', '/api/v2/devices'],
        ['GET', '/no/such/page'],
      ] as const) {
        const r = await raw(method, path, { key });
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.headers.get('content-type')).toContain('application/json');
        expect(r.json).toEqual({ error: { code: 404, message: expect.any(String) } });
      }
    }
  });

  it("a malformed URL or an overlong path parameter is a JSON 400, not Fastify's own body", async () => {
    for (const path of [
      '/api/v2/devices/%E0%A4%A',
      '/api/v2/devices/%',
      `/api/v2/devices/${'x'.repeat(300)}`,
      `/api/v2/devices/abc/rpc/${'M'.repeat(300)}`,
    ]) {
      for (const key of [undefined, null]) {
        const r = await raw('GET', path, { key });
        expect(r.status, path).toBe(400);
        expect(r.headers.get('content-type')).toContain('application/json');
        expect(r.json, path).toEqual({
          error: { code: expect.any(Number), message: expect.any(String) },
        });
      }
    }
  });

  it('a streamed (chunked) body over the limit is refused with 413 too', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"name":"'));
        if (sent >= 2 * 1024 * 1024) {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
          return;
        }
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${t.http}/api/v2/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' }).catch((err: unknown) => err as Error);
    // The hub may answer 413 before it has read everything, or cut the upload off.
    if (res instanceof Response) {
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: { code: 413, message: expect.any(String) } });
    }
    expect((await t.api('GET', '/api/v2/devices')).status).toBe(200);
  });

  it('a CORS preflight from any origin allows Authorization, without a key', async () => {
    for (const origin of ['http://evil.example', 'https://app.mdash.net', 'null']) {
      const r = await raw('OPTIONS', '/api/v2/devices', {
        key: null,
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(r.status).toBeLessThan(300);
      const allowOrigin = r.headers.get('access-control-allow-origin');
      expect([origin, '*']).toContain(allowOrigin);
      const allowHeaders = (r.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      expect(allowHeaders).toContain('authorization');
      expect((r.headers.get('access-control-allow-methods') ?? '').toUpperCase()).toContain('POST');
    }
  });

  it('answers cross-origin requests, and errors, with CORS headers a browser can read', async () => {
    const origin = 'http://lan-tool.example:3000';
    const ok = await raw('GET', '/api/v2/devices', { headers: { origin } });
    expect(ok.status).toBe(200);
    expect([origin, '*']).toContain(ok.headers.get('access-control-allow-origin'));
    const denied = await raw('GET', '/api/v2/devices', { key: 'wrong', headers: { origin } });
    expect(denied.status).toBe(401);
    expect([origin, '*']).toContain(denied.headers.get('access-control-allow-origin'));
  });
});
