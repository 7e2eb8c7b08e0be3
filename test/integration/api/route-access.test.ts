/**
 * The route access table (src/main/api/route-access.ts; issue 10 "Auth, made explicit") against
 * a real hub: every route the hub registers must be listed, with the mode the route itself
 * declares, so a new route cannot be public by accident; and every mode is enforced: master
 * routes refuse no key and a customer key, customer routes refuse no key and the master key,
 * device routes refuse no key and a customer key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../support/hub-harness';
import type { RouteRecord } from '../../../src/main/api/auth';
import { ROUTE_ACCESS, UPGRADE_ACCESS } from '../../../src/main/api/route-access';

const concretePath = (url: string): string =>
  url.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, 'nosuchthing').replace(/\*$/, 'index.html');

async function status(t: TestHub, r: RouteRecord, authorization?: string): Promise<number> {
  const res = await fetch(t.http + concretePath(r.url), {
    method: r.method,
    headers: authorization !== undefined ? { authorization } : {},
  });
  await res.arrayBuffer();
  return res.status;
}

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

describe('every route is in the access table, with the mode it declares', () => {
  let t: TestHub;
  let rendererDir: string;
  let customerToken: string;

  beforeAll(async () => {
    // With a built dashboard, so its static routes are registered too.
    rendererDir = mkdtempSync(join(tmpdir(), 'fb-renderer-'));
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>dash</title>');
    t = await startTestHub({ rendererDir });
    const c = await t.api<{ token: string }>('POST', '/api/v2/customers', {
      email: 'walk@example.com',
    });
    customerToken = c.body.token;
  });
  afterAll(async () => {
    await t.stop();
    rmSync(rendererDir, { recursive: true, force: true });
  });

  it('lists every registered route, and the modes agree', () => {
    expect(t.hub.routes.length).toBeGreaterThan(50);
    const missing = t.hub.routes.filter((r) => !r.listed).map((r) => `${r.method} ${r.url}`);
    expect(missing, 'routes missing from src/main/api/route-access.ts').toEqual([]);
    const table = new Map(ROUTE_ACCESS.map((a) => [`${a.method} ${a.url}`, a.auth]));
    const differing = t.hub.routes
      .filter((r) => table.get(`${r.method} ${r.url}`) !== r.declared)
      .map(
        (r) =>
          `${r.method} ${r.url}: declares ${r.declared}, table ${table.get(`${r.method} ${r.url}`)}`,
      );
    expect(differing).toEqual([]);
    for (const r of t.hub.routes) expect(r.auth, `${r.method} ${r.url}`).toBe(r.declared);
  });

  it('lists no route that does not exist (the table stays the truth)', () => {
    const registered = new Set(t.hub.routes.map((r) => `${r.method} ${r.url}`));
    // The dashboard is `GET /` (placeholder) without a build and `GET /*` (static) with one.
    const oneOf = new Set(['GET /', 'GET /*']);
    const stale = ROUTE_ACCESS.map((a) => `${a.method} ${a.url}`).filter(
      (k) => !registered.has(k) && !oneOf.has(k),
    );
    expect(stale).toEqual([]);
  });

  it('public routes are exactly the dashboard, customer apps and customer sign-up', () => {
    const pub = ROUTE_ACCESS.filter((a) => a.auth === 'none').map((a) => `${a.method} ${a.url}`);
    expect(pub.sort()).toEqual(
      [
        'GET /',
        'GET /*',
        'GET /a/:app_id',
        'GET /a/:app_id/*',
        'GET /newcustomer',
        'POST /invite',
      ].sort(),
    );
    for (const a of ROUTE_ACCESS.filter((x) => x.url.startsWith('/api/'))) {
      expect(a.auth, `${a.method} ${a.url}`).not.toBe('none');
    }
  });

  it('master routes: 401 without a key and with a customer key', async () => {
    const master = t.hub.routes.filter((r) => r.auth === 'master');
    expect(master.length).toBeGreaterThan(40);
    for (const r of master) {
      expect(await status(t, r), `${r.method} ${r.url} no key`).toBe(401);
      expect(
        await status(t, r, `Bearer ${customerToken}`),
        `${r.method} ${r.url} customer key`,
      ).toBe(401);
    }
  });

  it('customer routes: 401 without a key and with the master key', async () => {
    const customer = t.hub.routes.filter((r) => r.auth === 'customer');
    expect(customer.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET /customer',
      'POST /customer',
    ]);
    for (const r of customer) {
      expect(await status(t, r), `${r.method} ${r.url} no key`).toBe(401);
      expect(await status(t, r, `Bearer ${t.key}`), `${r.method} ${r.url} master key`).toBe(401);
      expect(await status(t, r, `Bearer ${customerToken}`), `${r.method} ${r.url} its key`).toBe(
        200,
      );
    }
  });

  it('device routes: 401 without a key and with a customer key', async () => {
    const device = t.hub.routes.filter((r) => r.auth === 'device');
    for (const r of device) {
      expect(await status(t, r), `${r.method} ${r.url} no key`).toBe(401);
      expect(
        await status(t, r, `Bearer ${customerToken}`),
        `${r.method} ${r.url} customer key`,
      ).toBe(401);
    }
  });

  it('public routes answer without a key', async () => {
    for (const r of t.hub.routes.filter((x) => x.auth === 'none' && x.method === 'GET')) {
      if (r.url === '/newcustomer') continue; // needs an email; covered by the customer tests
      expect(await status(t, r), `${r.method} ${r.url}`).not.toBe(401);
    }
  });

  it('WebSocket endpoints refuse an upgrade without a key', async () => {
    for (const u of UPGRADE_ACCESS) {
      expect(await upgradeStatus(t.ws + u.path), u.path).toBe(401);
    }
    expect(await upgradeStatus(`${t.ws}/api/v2/notify?access_token=${customerToken}`)).toBe(401);
  });
});
