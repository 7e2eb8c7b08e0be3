/**
 * `/api/v2/keys` (PROTOCOL.md 4): master API keys. The secret is shown once, on creation; lists
 * never carry it; a deleted key stops working at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyStatus, openNotify, startTestHub, type TestHub } from '../../support/hub-harness';
import type { KeyObject } from '../../../src/shared/types';

type NewKey = KeyObject & { key: string };

interface ErrorBody {
  error: { code: number; message: string };
}

describe('API keys (PROTOCOL.md 4)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  async function create(): Promise<NewKey> {
    const r = await t.api<NewKey>('POST', '/api/v2/keys');
    expect(r.status).toBe(200);
    return r.body;
  }

  it('creates a key and returns its secret once, with id, created and last_used', async () => {
    const before = Math.floor(Date.now() / 1000);
    const k = await create();
    expect(Object.keys(k).sort()).toEqual(['created', 'id', 'key', 'last_used']);
    expect(typeof k.key).toBe('string');
    expect(k.key.length).toBeGreaterThanOrEqual(24);
    expect(k.created).toBeGreaterThanOrEqual(before);
    expect(k.last_used).toBe(0);
    const other = await create();
    expect(other.id).not.toBe(k.id);
    expect(other.key).not.toBe(k.key);
  });

  it('never shows a secret again: list and get carry {id, created, last_used} only', async () => {
    const k = await create();
    const list = await t.api<KeyObject[]>('GET', '/api/v2/keys');
    expect(list.status).toBe(200);
    expect(list.body.length).toBeGreaterThanOrEqual(2); // the master key and this one
    for (const item of list.body) {
      expect(Object.keys(item).sort()).toEqual(['created', 'id', 'last_used']);
    }
    expect(list.body.map((x) => x.id)).toContain(k.id);
    expect(list.text).not.toContain(k.key);
    expect(list.text).not.toContain(t.key);
    const one = await t.api<KeyObject>('GET', `/api/v2/keys/${k.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ id: k.id, created: k.created, last_used: 0 });
    expect(one.text).not.toContain(k.key);
  });

  it('a new key works for REST (header and access_token) and the notify stream, and records last_used', async () => {
    const k = await create();
    const byHeader = await t.api('GET', '/api/v2/devices', undefined, k.key);
    expect(byHeader.status).toBe(200);
    const byQuery = await fetch(`${t.http}/api/v2/devices?access_token=${k.key}`);
    expect(byQuery.status).toBe(200);
    expect(await notifyStatus(t, k.key)).toBe(101);
    const listed = (await t.api<KeyObject[]>('GET', '/api/v2/keys')).body.find(
      (x) => x.id === k.id,
    );
    expect(listed?.last_used).toBeGreaterThan(0);
    // The new key can itself manage keys.
    const made = await t.api<NewKey>('POST', '/api/v2/keys', undefined, k.key);
    expect(made.status).toBe(200);
  });

  it('DELETE makes the key fail with 401 everywhere; the other keys keep working', async () => {
    const k = await create();
    expect((await t.api('GET', '/api/v2/devices', undefined, k.key)).status).toBe(200);
    const del = await t.api('DELETE', `/api/v2/keys/${k.id}`);
    expect(del.status).toBe(200);
    expect(del.body).toBe(true);
    const after = await t.api<ErrorBody>('GET', '/api/v2/devices', undefined, k.key);
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ error: { code: 401, message: expect.any(String) } });
    expect((await fetch(`${t.http}/api/v2/devices?access_token=${k.key}`)).status).toBe(401);
    expect(await notifyStatus(t, k.key)).toBe(401);
    expect((await t.api<KeyObject[]>('GET', '/api/v2/keys')).body.map((x) => x.id)).not.toContain(
      k.id,
    );
    expect((await t.api('GET', '/api/v2/devices')).status).toBe(200);
  });

  it('deleting a key closes the notification streams opened with it, not the others', async () => {
    const k = await create();
    const { ws: doomed } = await openNotify(t, k.key);
    const { ws: kept } = await openNotify(t);
    const closed = new Promise<number>((resolve) => doomed.once('close', (code) => resolve(code)));
    expect((await t.api('DELETE', `/api/v2/keys/${k.id}`)).status).toBe(200);
    expect(await closed).toBe(4003);
    // The master key's stream still receives notifications.
    const got = new Promise<string>((resolve) =>
      kept.once('message', (d) => resolve(d.toString())),
    );
    await t.createDevice({ name: 'after-revoke' });
    expect(JSON.parse(await got)).toMatchObject({ name: 'created' });
    kept.close();
  });

  it('404s an unknown key id for GET and DELETE, and a deleted one the second time', async () => {
    for (const method of ['GET', 'DELETE']) {
      const r = await t.api<ErrorBody>(method, '/api/v2/keys/knotakey');
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe(4042);
    }
    const k = await create();
    expect((await t.api('DELETE', `/api/v2/keys/${k.id}`)).status).toBe(200);
    expect((await t.api('DELETE', `/api/v2/keys/${k.id}`)).status).toBe(404);
    expect((await t.api('GET', `/api/v2/keys/${k.id}`)).status).toBe(404);
  });

  it('a key id is not a key, and a key secret is not an id', async () => {
    const k = await create();
    expect((await t.api('GET', '/api/v2/devices', undefined, k.id)).status).toBe(401);
    expect((await t.api('GET', `/api/v2/keys/${encodeURIComponent(k.key)}`)).status).toBe(404);
  });
});
