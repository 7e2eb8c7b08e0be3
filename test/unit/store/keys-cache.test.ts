/**
 * API keys verified from memory (issue 11): no table read per request, revocation immediate in
 * this process and from another connection (the CLI on a running hub's data dir), `last_used`
 * written lazily through the group commit. Real SQLite files in a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OUTSIDE_CHECK_MS } from '../../../src/main/store/outside-writes';
import { openStore, type Store } from '../../../src/main/store/store';

describe('KeysRepo in-memory verification', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-keys-'));
    store = openStore(dir, 0);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies a created key and refuses a wrong or similar one', () => {
    const k = store.keys.create(100);
    expect(store.keys.verify(k.key, 100)?.id).toBe(k.id);
    expect(store.keys.verify(k.key + 'x', 100)).toBeUndefined();
    expect(store.keys.verify(k.key.slice(0, -1), 100)).toBeUndefined();
    expect(store.keys.verify('', 100)).toBeUndefined();
  });

  it('reads no key table per request once the map is loaded', () => {
    const k = store.keys.create(100);
    store.keys.verify(k.key, 100);
    // Another connection's row would be seen only through data_version: this one changes the
    // table behind the map's back on the SAME connection, which nothing in the hub does.
    store.registry.prepare('DELETE FROM api_keys').run();
    expect(store.keys.verify(k.key, 100)?.id).toBe(k.id);
  });

  it('revokes at once: a deleted key fails its very next request', () => {
    const a = store.keys.create(100);
    const b = store.keys.create(100);
    expect(store.keys.verify(a.key, 100)).toBeDefined();
    expect(store.keys.remove(a.id)).toBe(true);
    expect(store.keys.verify(a.key, 100)).toBeUndefined();
    expect(store.keys.verify(b.key, 100)?.id).toBe(b.id);
    expect(store.keys.remove(a.id)).toBe(false);
  });

  it('sees a key created by another connection (the CLI) at once, and one deleted within OUTSIDE_CHECK_MS', async () => {
    const a = store.keys.create(100);
    expect(store.keys.verify(a.key, 100)).toBeDefined();
    const cli = openStore(dir, 0);
    try {
      expect(cli.keys.remove(a.id)).toBe(true);
      const c = cli.keys.create(100);
      // An unknown key makes the repo ask SQLite again at once (outside-writes.ts).
      expect(store.keys.verify(c.key, 100)?.id).toBe(c.id);
      // data_version is asked at most every OUTSIDE_CHECK_MS otherwise.
      await new Promise((r) => setTimeout(r, OUTSIDE_CHECK_MS + 5));
      expect(store.keys.verify(a.key, 100)).toBeUndefined();
      expect(store.keys.verify(c.key, 100)?.id).toBe(c.id);
    } finally {
      cli.close();
    }
  });

  it('writes last_used at most once a minute, through the group commit', async () => {
    const k = store.keys.create(100);
    expect(store.keys.verify(k.key, 1000)?.last_used).toBe(1000);
    expect(store.keys.verify(k.key, 1030)?.last_used).toBe(1000);
    expect(store.keys.get(k.id)?.last_used).toBe(1000);
    store.committer.flush();
    await new Promise((r) => setTimeout(r, 50));
    const row = store.registry
      .prepare<[string], { last_used: number }>('SELECT last_used FROM api_keys WHERE id = ?')
      .get(k.id);
    expect(row?.last_used).toBe(1000);
    expect(store.keys.verify(k.key, 1060)?.last_used).toBe(1060);
    expect(store.keys.list().find((x) => x.id === k.id)?.last_used).toBe(1060);
  });
});
