/** The customers table (migration 5) on a real SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/main/store/store';
import { customerObject } from '../../../src/main/store/customers-repo';

describe('CustomersRepo', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-cust-'));
    store = openStore(dir);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a customer with a url-safe token, found by token and by email', () => {
    const c = store.customers.insert({ email: 'a@example.com', app_id: 'x' }, 100);
    expect(c.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(c.id).toMatch(/^c[a-z0-9]{12}$/);
    expect(store.customers.byToken(c.token)?.id).toBe(c.id);
    expect(store.customers.byToken(c.token + 'x')).toBeUndefined();
    expect(store.customers.byToken('')).toBeUndefined();
    expect(store.customers.byEmail('a@example.com')?.id).toBe(c.id);
    expect(store.customers.count()).toBe(1);
  });

  it('replaces the fields a patch gives and keeps the rest; the hash never leaves customerObject', () => {
    const c = store.customers.insert({ email: 'b@example.com', pubkeys: { K1: {} } }, 100);
    const u = store.customers.update(
      c.id,
      { pubkeys: { K2: { n: 1 } }, password_hash: 'scrypt$x' },
      200,
    );
    expect(u).toMatchObject({
      pubkeys: { K2: { n: 1 } },
      cconfig: {},
      created_at: 100,
      updated_at: 200,
    });
    expect(store.customers.get(c.id)?.password_hash).toBe('scrypt$x');
    const obj = customerObject(store.customers.get(c.id) ?? c);
    expect(obj).not.toHaveProperty('password_hash');
    expect(store.customers.update('nope', {}, 1)).toBeUndefined();
  });

  it('enforces one customer per email in the schema too, and removes', () => {
    const c = store.customers.insert({ email: 'c@example.com' }, 1);
    expect(() => store.customers.insert({ email: 'c@example.com' }, 2)).toThrow();
    expect(store.customers.remove(c.id)).toBe(true);
    expect(store.customers.remove(c.id)).toBe(false);
    expect(store.customers.byToken(c.token)).toBeUndefined();
  });
});
