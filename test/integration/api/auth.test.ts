/**
 * Route authentication (PROTOCOL.md 4 "Auth"). The list of routes comes from `hub.routes`, which
 * src/main/api/auth.ts records for every route as it is registered: a route added later is
 * enumerated here too, so it cannot skip the key check unnoticed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../support/hub-harness';
import type { RouteRecord } from '../../../src/main/api/auth';
import { ROUTE_ACCESS } from '../../../src/main/api/route-access';

/**
 * Routes that may be called without a key: those the access table lists as public (the dashboard,
 * customer web apps, customer sign-up; test/integration/api/route-access.test.ts pins the list).
 */
const PUBLIC_URLS = new Set(ROUTE_ACCESS.filter((a) => a.auth === 'none').map((a) => a.url));

/** A concrete path for a route pattern: `:param` -> `sample`, `*` -> a static file name. */
function concretePath(url: string, sample: string): string {
  return url.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, sample).replace(/\*$/, 'index.html');
}

async function call(
  t: TestHub,
  route: Pick<RouteRecord, 'method' | 'url'>,
  opts: { key?: string; query?: string; sample?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  if (opts.key !== undefined) headers['authorization'] = `Bearer ${opts.key}`;
  const path = concretePath(route.url, opts.sample ?? 'nosuchthing') + (opts.query ?? '');
  const res = await fetch(t.http + path, { method: route.method, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the assertion on the shape will say so
  }
  return { status: res.status, body };
}

function expectUnauthorized(r: { status: number; body: unknown }, what: string): void {
  expect(r.status, what).toBe(401);
  expect(r.body, what).toEqual({ error: { code: 401, message: expect.any(String) } });
}

describe('management routes need a master key (PROTOCOL.md 4)', () => {
  let t: TestHub;
  let protectedRoutes: RouteRecord[];

  beforeAll(async () => {
    t = await startTestHub();
    protectedRoutes = t.hub.routes.filter((r) => r.auth !== 'none');
  });
  afterAll(async () => {
    await t.stop();
  });

  it('records the routes it serves (the enumeration below is not vacuous)', () => {
    const seen = new Set(t.hub.routes.map((r) => `${r.method} ${r.url}`));
    for (const expected of [
      'GET /api/v2/devices',
      'POST /api/v2/devices',
      'GET /api/v2/devices/:id',
      'POST /api/v2/devices/:id',
      'PUT /api/v2/devices/:id',
      'DELETE /api/v2/devices/:id',
      'GET /api/v2/devices/:id/shadow',
      'POST /api/v2/devices/:id/shadow',
      'GET /api/v2/devices/:id/rpc/:method',
      'POST /api/v2/devices/:id/rpc/:method',
      'GET /api/v2/keys',
      'POST /api/v2/keys',
      'DELETE /api/v2/keys/:id',
      'POST /api/v2/logs',
      'GET /',
    ]) {
      expect(seen, expected).toContain(expected);
    }
  });

  it('only the listed public routes are public; everything under /api/ needs a key', () => {
    const publicRoutes = t.hub.routes.filter((r) => r.auth === 'none');
    for (const r of publicRoutes) {
      expect(PUBLIC_URLS.has(r.url), `${r.method} ${r.url} is public`).toBe(true);
    }
    for (const r of t.hub.routes.filter((r) => r.url.startsWith('/api/'))) {
      expect(r.auth, `${r.method} ${r.url}`).not.toBe('none');
    }
  });

  it('every protected route refuses a missing key with 401 and the JSON error shape', async () => {
    expect(protectedRoutes.length).toBeGreaterThan(10);
    for (const r of protectedRoutes) {
      expectUnauthorized(await call(t, r), `${r.method} ${r.url} without a key`);
    }
  });

  it('every protected route refuses a wrong key, as a header or as access_token', async () => {
    for (const r of protectedRoutes) {
      expectUnauthorized(await call(t, r, { key: 'wrong-key' }), `${r.method} ${r.url} header`);
      expectUnauthorized(
        await call(t, r, { query: '?access_token=wrong-key' }),
        `${r.method} ${r.url} access_token`,
      );
      // An empty access_token is no key at all.
      expectUnauthorized(
        await call(t, r, { query: '?access_token=' }),
        `${r.method} ${r.url} empty access_token`,
      );
    }
  });

  it('refuses a key that is not a Bearer (Basic, bare) and a HEAD request without a key', async () => {
    for (const authorization of [`Basic ${Buffer.from(t.key).toString('base64')}`, t.key]) {
      const res = await fetch(`${t.http}/api/v2/devices`, { headers: { authorization } });
      expect(res.status).toBe(401);
    }
    // HEAD routes are not exposed (a HEAD of an RPC route would call the device): never a 200.
    const head = await fetch(`${t.http}/api/v2/devices`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    const headRpc = await fetch(`${t.http}/api/v2/devices/x/rpc/Sys.Reboot`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(headRpc.status).toBe(404);
  });

  it('every master route accepts the master key as ?access_token=', async () => {
    // Unknown ids keep the calls harmless: the answer is 404 (or 200 for list/create), never 401.
    // Customer and device routes take their own keys, not the master key (route-access.test.ts).
    for (const r of protectedRoutes.filter((x) => x.auth === 'master')) {
      const res = await call(t, r, { query: `?access_token=${encodeURIComponent(t.key)}` });
      expect(res.status, `${r.method} ${r.url}`).not.toBe(401);
      expect(res.status, `${r.method} ${r.url}`).toBeLessThan(500);
    }
    const list = await call(
      t,
      { method: 'GET', url: '/api/v2/devices' },
      {
        query: `?access_token=${t.key}`,
      },
    );
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body)).toBe(true);
  });

  it('the dashboard page is served without a key', async () => {
    const res = await fetch(`${t.http}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
  });

  it('a key in the header wins over nothing, and the wrong-key answer leaks no data', async () => {
    await t.createDevice({ id: 'secret-device' });
    const bad = await call(
      t,
      { method: 'GET', url: '/api/v2/devices/:id' },
      {
        key: 'nope',
        sample: 'secret-device',
      },
    );
    expectUnauthorized(bad, 'existing device, wrong key');
    expect(JSON.stringify(bad.body)).not.toContain('secret-device');
    const good = await call(
      t,
      { method: 'GET', url: '/api/v2/devices/:id' },
      {
        key: t.key,
        sample: 'secret-device',
      },
    );
    expect(good.status).toBe(200);
  });
});

describe('with a built dashboard, static files are public and the API is not', () => {
  let t: TestHub;
  let rendererDir: string;

  beforeAll(async () => {
    rendererDir = mkdtempSync(join(tmpdir(), 'fb-renderer-'));
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>dash</title>');
    writeFileSync(join(rendererDir, 'app.js'), 'console.log(1)');
    t = await startTestHub({ rendererDir });
  });
  afterAll(async () => {
    await t.stop();
    rmSync(rendererDir, { recursive: true, force: true });
  });

  it('records only the listed public routes as public', () => {
    const publicRoutes = t.hub.routes.filter((r) => r.auth === 'none');
    expect(publicRoutes.length).toBeGreaterThan(0);
    for (const r of publicRoutes) {
      expect(PUBLIC_URLS.has(r.url), `${r.method} ${r.url} is public`).toBe(true);
    }
  });

  it('serves files without a key', async () => {
    expect((await fetch(`${t.http}/`)).status).toBe(200);
    const js = await fetch(`${t.http}/app.js`);
    expect(js.status).toBe(200);
    expect(await js.text()).toBe('console.log(1)');
  });

  it('still refuses every protected route without a key (the static wildcard does not shadow them)', async () => {
    const protectedRoutes = t.hub.routes.filter((r) => r.auth !== 'none');
    expect(protectedRoutes.length).toBeGreaterThan(10);
    for (const r of protectedRoutes) {
      expectUnauthorized(await call(t, r), `${r.method} ${r.url} without a key`);
    }
  });

  it('an unknown API path is a JSON 404, not a static file', async () => {
    const res = await fetch(`${t.http}/api/v2/nothing-here`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 404, message: expect.any(String) } });
  });
});
