/**
 * The customer API on a real hub (PROTOCOL.md 4, issue 10): sign-up without a key that never
 * hands out a link for an existing account, the customer's own object with its key or HTTP
 * Basic, replace-not-merge writes, read-only fields, the cconfig cap at its edge, rate limits,
 * the customer cap, and management by master key.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type ErrorBody, type TestHub } from '../../support/hub-harness';
import type { CustomerObject, ManagedCustomer } from '../../../src/shared/customers';
import { DEFAULT_CUSTOMERS } from '../../../src/main/config';

const basic = (email: string, password: string): string =>
  `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;

async function raw(
  t: TestHub,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(t.http + path, {
    method,
    headers,
    ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** The token of a sign-in link: the whole query string. */
const tokenOf = (link: string): string => new URL(link).search.slice(1);

describe('customer sign-up and the customer object', () => {
  let t: TestHub;
  beforeAll(async () => {
    // Rate limits out of the way here; their own test below.
    t = await startTestHub({ customers: { signupsPerMinute: 0, basicAuthPerMinute: 0 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('GET /newcustomer: a link of the built-in app for a new email, {} for an existing one', async () => {
    const first = await raw(t, 'GET', '/newcustomer?email=%20New.User@Example.com');
    expect(first.status).toBe(200);
    const link = (first.body as { link: string }).link;
    const url = new URL(link);
    expect(url.origin).toBe(t.http);
    expect(url.pathname).toBe('/a/default/');
    const token = tokenOf(link);
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    const me = await raw(t, 'GET', `/customer?access_token=${token}`);
    expect(me.status).toBe(200);
    const obj = me.body as CustomerObject;
    expect(Object.keys(obj).sort()).toEqual(
      ['app_id', 'cconfig', 'created_at', 'email', 'id', 'pubkeys', 'token', 'updated_at'].sort(),
    );
    expect(obj).toMatchObject({ email: 'new.user@example.com', token, pubkeys: {}, cconfig: {} });

    // The same address again, in another case: no link, nothing created, the old key unchanged.
    const again = await raw(t, 'GET', '/newcustomer?email=NEW.USER@example.com');
    expect(again).toMatchObject({ status: 200, body: {} });
    const list = await t.api<ManagedCustomer[]>('GET', '/api/v2/customers');
    expect(list.body.filter((c) => c.email === 'new.user@example.com')).toHaveLength(1);
    expect((await raw(t, 'GET', `/customer?access_token=${token}`)).status).toBe(200);
  });

  it('keeps a raw + in the email and refuses a bad one with 400 4002', async () => {
    const plus = await raw(t, 'GET', '/newcustomer?email=a+b@example.com');
    const token = tokenOf((plus.body as { link: string }).link);
    const me = await raw(t, 'GET', '/customer', { headers: { authorization: `Bearer ${token}` } });
    expect((me.body as CustomerObject).email).toBe('a+b@example.com');
    for (const q of ['', '?email=', '?email=nope', '?email=a%40b']) {
      const r = await raw(t, 'GET', `/newcustomer${q}`);
      expect(r.status, q).toBe(400);
      expect((r.body as ErrorBody).error.code, q).toBe(4002);
    }
  });

  it('POST /invite: <redir>?<token> on the hub in url, app_id stored; existing email: {} and no link', async () => {
    const body = {
      app_id: 'lights',
      email: 'invitee@example.com',
      from: 'Ann',
      text: 'Join my lights',
      redir: '/a/lights/',
      url: 'https://hub.example:8443',
    };
    const r = await raw(t, 'POST', '/invite', { body });
    expect(r.status).toBe(200);
    const link = (r.body as { link: string }).link;
    expect(link).toMatch(/^https:\/\/hub\.example:8443\/a\/lights\/\?[A-Za-z0-9_-]+$/);
    const me = await raw(t, 'GET', `/customer?access_token=${tokenOf(link)}`);
    expect(me.body).toMatchObject({ email: 'invitee@example.com', app_id: 'lights' });

    // Existing account (whoever asks, whatever app): 200 {} with NO link: no takeover.
    for (const again of [body, { ...body, email: ' INVITEE@example.com', app_id: 'other' }]) {
      const second = await raw(t, 'POST', '/invite', { body: again });
      expect(second).toMatchObject({ status: 200, body: {} });
      expect(JSON.stringify(second.body)).not.toContain('?');
    }
    // An account made by /newcustomer is protected the same way.
    await raw(t, 'GET', '/newcustomer?email=both@example.com');
    expect(await raw(t, 'POST', '/invite', { body: { email: 'both@example.com' } })).toMatchObject({
      status: 200,
      body: {},
    });
  });

  it('POST /invite refuses a non-http url, a bad email, and a wrong type, creating nothing', async () => {
    const before = (await t.api<ManagedCustomer[]>('GET', '/api/v2/customers')).body.length;
    for (const body of [
      { email: 'x1@example.com', url: 'javascript:alert(1)' },
      { email: 'x2@example.com', url: 'http://hub', redir: 'javascript:alert(1)' },
      { email: 'not-an-email' },
      { email: 42 },
      {},
    ]) {
      const r = await raw(t, 'POST', '/invite', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect((await t.api<ManagedCustomer[]>('GET', '/api/v2/customers')).body.length).toBe(before);
  });

  async function newCustomer(email: string): Promise<string> {
    const r = await raw(t, 'GET', `/newcustomer?email=${email}`);
    return tokenOf((r.body as { link: string }).link);
  }

  it('HTTP Basic works once a password is set through POST /customer; a wrong one is 401', async () => {
    const token = await newCustomer('basic@example.com');
    // No password yet: Basic is refused.
    const none = await raw(t, 'GET', '/customer', {
      headers: { authorization: basic('basic@example.com', '') },
    });
    expect(none.status).toBe(401);

    const set = await raw(t, 'POST', `/customer?access_token=${token}`, {
      body: { password: 's3cret:with colon' },
    });
    expect(set.status).toBe(200);
    expect(JSON.stringify(set.body)).not.toContain('s3cret');
    expect(set.body).not.toHaveProperty('password');

    const ok = await raw(t, 'GET', '/customer', {
      headers: { authorization: basic('Basic@Example.com', 's3cret:with colon') },
    });
    expect(ok.status).toBe(200);
    expect((ok.body as CustomerObject).token).toBe(token);

    for (const [email, pw] of [
      ['basic@example.com', 's3cret:with colo'],
      ['basic@example.com', ''],
      ['nobody@example.com', 's3cret:with colon'],
    ] as const) {
      const bad = await raw(t, 'GET', '/customer', {
        headers: { authorization: basic(email, pw) },
      });
      expect(bad.status, `${email}:${pw}`).toBe(401);
      expect((bad.body as ErrorBody).error.code).toBe(401);
    }
    // The password hash is nowhere in the management view either.
    const list = await t.api<ManagedCustomer[]>('GET', '/api/v2/customers');
    const mine = list.body.find((c) => c.email === 'basic@example.com');
    expect(mine?.has_password).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain('scrypt');

    // Clearing it turns Basic off again.
    await raw(t, 'POST', `/customer?access_token=${token}`, { body: { password: null } });
    const off = await raw(t, 'GET', '/customer', {
      headers: { authorization: basic('basic@example.com', 's3cret:with colon') },
    });
    expect(off.status).toBe(401);
  });

  it('POST /customer replaces each top-level key (pubkeys not merged) and ignores read-only fields', async () => {
    const token = await newCustomer('writer@example.com');
    const auth = { authorization: `Bearer ${token}` };
    const first = await raw(t, 'POST', '/customer', {
      headers: auth,
      body: { pubkeys: { K1: { name: 'lamp' }, K2: {} }, cconfig: { theme: 'dark', n: 1 } },
    });
    expect(first.body).toMatchObject({
      pubkeys: { K1: { name: 'lamp' }, K2: {} },
      cconfig: { theme: 'dark', n: 1 },
    });
    const echoed = first.body as CustomerObject;

    // Post the whole echoed object back with changes, read-only fields altered.
    const second = await raw(t, 'POST', '/customer', {
      headers: auth,
      body: {
        ...echoed,
        id: 'hijack',
        token: 'mine-now',
        email: 'other@example.com',
        app_id: 'elsewhere',
        created_at: 1,
        updated_at: 2,
        unknown_field: true,
        pubkeys: { K3: { name: 'fan' } },
        cconfig: { n: 2 },
      },
    });
    expect(second.status).toBe(200);
    const after = second.body as CustomerObject;
    expect(after.pubkeys).toEqual({ K3: { name: 'fan' } });
    expect(after.cconfig).toEqual({ n: 2 });
    expect(after).toMatchObject({
      id: echoed.id,
      token,
      email: 'writer@example.com',
      app_id: '',
      created_at: echoed.created_at,
    });
    expect(after.updated_at).toBeGreaterThanOrEqual(echoed.updated_at);
    // A partial write leaves the other keys alone.
    const third = await raw(t, 'POST', '/customer', { headers: auth, body: { cconfig: [1, 2] } });
    expect(third.body).toMatchObject({ pubkeys: { K3: { name: 'fan' } }, cconfig: [1, 2] });
    // The old token still works; 'mine-now' is nobody's.
    expect((await raw(t, 'GET', '/customer?access_token=mine-now')).status).toBe(401);
    // Bad types are a 400 naming the field, nothing written.
    const bad = await raw(t, 'POST', '/customer', {
      headers: auth,
      body: { pubkeys: { K: 'not an object' } },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as ErrorBody).error.message).toContain('pubkeys');
    expect(
      ((await raw(t, 'GET', '/customer', { headers: auth })).body as CustomerObject).pubkeys,
    ).toEqual({ K3: { name: 'fan' } });
  });

  it('cconfig may be exactly 32 KB serialized; one byte more is 413 4135 and nothing changes', async () => {
    const token = await newCustomer('big@example.com');
    const auth = { authorization: `Bearer ${token}` };
    const limit = 32 * 1024;
    // {"v":"xxx"} is 8 bytes of framing.
    const fits = { v: 'x'.repeat(limit - 8) };
    expect(Buffer.byteLength(JSON.stringify(fits))).toBe(limit);
    const ok = await raw(t, 'POST', '/customer', { headers: auth, body: { cconfig: fits } });
    expect(ok.status).toBe(200);
    const over = await raw(t, 'POST', '/customer', {
      headers: auth,
      body: { cconfig: { v: 'x'.repeat(limit - 7) } },
    });
    expect(over.status).toBe(413);
    expect((over.body as ErrorBody).error.code).toBe(4135);
    const now = (await raw(t, 'GET', '/customer', { headers: auth })).body as CustomerObject;
    expect(now.cconfig).toEqual(fits);
  });

  it('refuses a missing or wrong customer key with 401', async () => {
    expect((await raw(t, 'GET', '/customer')).status).toBe(401);
    expect((await raw(t, 'GET', '/customer?access_token=nope')).status).toBe(401);
    expect((await raw(t, 'POST', '/customer', { body: {} })).status).toBe(401);
    // The master key is not a customer key.
    expect((await raw(t, 'GET', `/customer?access_token=${t.key}`)).status).toBe(401);
  });

  it('a customer key reaches only /customer: management and the device public API refuse it', async () => {
    const token = await newCustomer('scoped@example.com');
    const dev = await t.createDevice({ id: 'scoped-dev' });
    // Even a device whose ACL public_key happened to be set cannot be reached with it.
    await t.api('POST', `/api/v2/devices/${dev.id}`, {
      acl: { public_key: 'PK-scoped', shadow_read: '.*' },
    });
    for (const [method, path] of [
      ['GET', '/api/v2/devices'],
      ['GET', '/api/v2/customers'],
      ['POST', '/api/v2/customers'],
      ['GET', '/api/v2/keys'],
      ['GET', '/api/v2/m/device'],
      ['POST', '/api/v2/m/device'],
    ] as const) {
      const asHeader: Record<string, string> = { authorization: `Bearer ${token}` };
      for (const headers of [asHeader, {}]) {
        const q = headers === asHeader ? '' : `?access_token=${token}`;
        const r = await raw(t, method, path + q, { headers });
        expect(r.status, `${method} ${path} ${q}`).toBe(401);
      }
    }
  });
});

describe('customer management (master key)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('POST /api/v2/customers invites: the customer with its sign-in link; the same email is 409', async () => {
    const r = await t.api<ManagedCustomer>('POST', '/api/v2/customers', {
      email: 'Managed@Example.com',
      app_id: 'lights',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      email: 'managed@example.com',
      app_id: 'lights',
      has_password: false,
    });
    expect(r.body.link).toBe(`${t.http}/a/lights/?${r.body.token}`);
    const me = await fetch(`${t.http}/customer?access_token=${tokenOf(r.body.link)}`);
    expect(me.status).toBe(200);

    const dup = await t.api<ErrorBody>('POST', '/api/v2/customers', {
      email: 'managed@example.com',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe(4099);

    const plain = await t.api<ManagedCustomer>('POST', '/api/v2/customers', {
      email: 'plain@example.com',
    });
    expect(plain.body.app_id).toBe('');
    expect(plain.body.link).toBe(`${t.http}/a/default/?${plain.body.token}`);
  });

  it('POST /api/v2/customers/:id creates or updates (pubkeys replaced); GET, list, DELETE', async () => {
    const created = await t.api<ManagedCustomer>('POST', '/api/v2/customers/cust-1', {
      email: 'one@example.com',
      pubkeys: { K: {} },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      id: 'cust-1',
      email: 'one@example.com',
      pubkeys: { K: {} },
    });

    const updated = await t.api<ManagedCustomer>('POST', '/api/v2/customers/cust-1', {
      pubkeys: { K2: { label: 'x' } },
      token: 'ignored',
      created_at: 5,
    });
    expect(updated.body.pubkeys).toEqual({ K2: { label: 'x' } });
    expect(updated.body.token).toBe(created.body.token);
    expect(updated.body.created_at).toBe(created.body.created_at);

    // The master may change the email, not onto another customer's.
    await t.api('POST', '/api/v2/customers/cust-2', { email: 'two@example.com' });
    const clash = await t.api<ErrorBody>('POST', '/api/v2/customers/cust-1', {
      email: 'TWO@example.com',
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe(4099);
    const renamed = await t.api<ManagedCustomer>('POST', '/api/v2/customers/cust-1', {
      email: 'uno@example.com',
    });
    expect(renamed.body.email).toBe('uno@example.com');

    // Creating needs an email; ids keep to the CUSTOMER_ID charset.
    const noEmail = await t.api<ErrorBody>('POST', '/api/v2/customers/cust-3', { pubkeys: {} });
    expect(noEmail.status).toBe(400);
    expect(
      (await t.api('POST', "/api/v2/customers/bad'id", { email: 'q@example.com' })).status,
    ).toBe(400);

    const one = await t.api<ManagedCustomer>('GET', '/api/v2/customers/cust-1');
    expect(one.body.email).toBe('uno@example.com');
    const list = await t.api<ManagedCustomer[]>('GET', '/api/v2/customers');
    expect(list.body.map((c) => c.id)).toEqual(expect.arrayContaining(['cust-1', 'cust-2']));

    expect((await t.api('DELETE', '/api/v2/customers/cust-1')).body).toBe(true);
    const gone = await t.api<ErrorBody>('GET', '/api/v2/customers/cust-1');
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe(4047);
    expect((await t.api<ErrorBody>('DELETE', '/api/v2/customers/cust-1')).status).toBe(404);
    // Its key died with it.
    expect((await fetch(`${t.http}/customer?access_token=${created.body.token}`)).status).toBe(401);
    // The email is free again.
    const fresh = await fetch(`${t.http}/newcustomer?email=uno@example.com`);
    expect(Object.keys((await fresh.json()) as object)).toEqual(['link']);
  });

  it('management needs the master key', async () => {
    for (const [m, p] of [
      ['GET', '/api/v2/customers'],
      ['POST', '/api/v2/customers'],
      ['GET', '/api/v2/customers/x'],
      ['POST', '/api/v2/customers/x'],
      ['DELETE', '/api/v2/customers/x'],
    ] as const) {
      expect((await t.api(m, p, undefined, null)).status, `${m} ${p}`).toBe(401);
    }
  });

  it('customers survive a restart (registry migration 5)', async () => {
    const dataDir = t.dataDir;
    const c = await t.api<ManagedCustomer>('POST', '/api/v2/customers', {
      email: 'keep@example.com',
    });
    await t.hub.stop();
    const again = await startTestHub({ dataDir });
    try {
      const me = await fetch(`${again.http}/customer?access_token=${c.body.token}`);
      expect(((await me.json()) as CustomerObject).email).toBe('keep@example.com');
    } finally {
      await again.stop();
      // `t.stop()` in afterAll removes the dir; give it a hub to stop.
      t = await startTestHub({ dataDir });
    }
  });
});

describe('abuse limits of the public routes', () => {
  let t: TestHub | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  it('rate limits /newcustomer and /invite per address: the burst passes, then 429 4296 with Retry-After', async () => {
    t = await startTestHub({ customers: { signupsPerMinute: 1, signupBurst: 3 } });
    const hub = t;
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      codes.push((await raw(hub, 'GET', `/newcustomer?email=r${i}@example.com`)).status);
    }
    expect(codes).toEqual([200, 200, 200]);
    const over = await raw(hub, 'POST', '/invite', { body: { email: 'r9@example.com' } });
    expect(over.status).toBe(429);
    expect((over.body as ErrorBody).error.code).toBe(4296);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Refused before anything was created.
    const list = await hub.api<ManagedCustomer[]>('GET', '/api/v2/customers');
    expect(list.body.map((c) => c.email)).not.toContain('r9@example.com');
    // Management is not rate limited.
    expect((await hub.api('POST', '/api/v2/customers', { email: 'm@example.com' })).status).toBe(
      200,
    );
  });

  it('rate limits HTTP Basic attempts per address (each costs a slow hash)', async () => {
    t = await startTestHub({ customers: { basicAuthPerMinute: 1, basicAuthBurst: 2 } });
    const hub = t;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (
          await raw(hub, 'GET', '/customer', {
            headers: { authorization: basic('a@example.com', 'x') },
          })
        ).status,
      );
    }
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('caps the number of customers: at the cap, sign-up and management get 403 4039', async () => {
    t = await startTestHub({ customers: { maxCustomers: 2, signupsPerMinute: 0 } });
    const hub = t;
    expect((await raw(hub, 'GET', '/newcustomer?email=c1@example.com')).status).toBe(200);
    expect((await hub.api('POST', '/api/v2/customers', { email: 'c2@example.com' })).status).toBe(
      200,
    );
    for (const r of [
      await raw(hub, 'GET', '/newcustomer?email=c3@example.com'),
      await raw(hub, 'POST', '/invite', { body: { email: 'c3@example.com' } }),
      await raw(hub, 'POST', '/api/v2/customers', {
        body: { email: 'c3@example.com' },
        headers: { authorization: `Bearer ${hub.key}` },
      }),
    ]) {
      expect(r.status).toBe(403);
      expect((r.body as ErrorBody).error.code).toBe(4039);
    }
    // An existing email still gets its no-link answer, not an error that confirms the cap.
    expect(await raw(hub, 'GET', '/newcustomer?email=c1@example.com')).toMatchObject({
      status: 200,
      body: {},
    });
  });

  it('has safe defaults', () => {
    expect(DEFAULT_CUSTOMERS.signupsPerMinute).toBeGreaterThan(0);
    expect(DEFAULT_CUSTOMERS.maxCustomers).toBeGreaterThan(0);
    expect(DEFAULT_CUSTOMERS.basicAuthPerMinute).toBeGreaterThan(0);
  });
});

describe('sign-up links over https', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ tlsPort: 0 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('GET /newcustomer over https answers an https link on the Host it was reached at', async () => {
    const urls = t.hub.urls();
    const ca = readFileSync(urls.caPath ?? '', 'utf8');
    const port = new URL(urls.https ?? '').port;
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        { host: 'localhost', port, path: '/newcustomer?email=tls@example.com', ca },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const link = (JSON.parse(body) as { link: string }).link;
    expect(link).toMatch(new RegExp(`^https://localhost:${port}/a/default/\\?[A-Za-z0-9_-]+$`));
  });

  it('a Host header that is not a host name is refused, not pasted into a link', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const u = new URL(t.http);
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: '/newcustomer?email=host@example.com',
          headers: { host: 'evil.example/"><script>' },
        },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(res).toBe(400);
  });
});
