/**
 * The device rows held in memory for the per-call path (issue 11): served without a table read,
 * never stale after a write through the repo settled, never ahead of what is committed, nor stale
 * after another connection (the CLI on a running hub's data dir) wrote. Real SQLite files in a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OUTSIDE_CHECK_MS } from '../../../src/main/store/outside-writes';
import { openStore, type Store } from '../../../src/main/store/store';
import type { DeviceRecord } from '../../../src/main/store/devices-repo';

const rec = (id: string): DeviceRecord => ({
  id,
  name: id,
  token: `tok-${id}`,
  acl: {},
  shadow: {
    state: {},
    version: 0,
    timestamp: 0,
    metadata: {},
  } as unknown as DeviceRecord['shadow'],
  created: 1,
  last_seen: 0,
});

describe('DevicesRepo in memory', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-devmeta-'));
    store = openStore(dir, 0);
    store.devices.insert(rec('d1'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the row from memory, frozen: no caller can change what the others see', () => {
    store.devices.insert({ ...rec('d2'), acl: { data_read: { q: 'SELECT 1' } } as never });
    const a = store.devices.getMeta('d1');
    expect(a?.name).toBe('d1');
    // Changed behind the repo's back on its own connection: only memory can still say 'd1'.
    store.registry.prepare("UPDATE devices SET name = 'x' WHERE id = 'd1'").run();
    const b = store.devices.getMeta('d1');
    expect(b?.name).toBe('d1');
    expect(() => ((b as { acl: Record<string, unknown> }).acl.changed = true)).toThrow(TypeError);
    expect(() => ((b as { name: string }).name = 'y')).toThrow(TypeError);
    const nested = store.devices.getMeta('d2')?.acl as { data_read: Record<string, string> };
    expect(() => (nested.data_read.q = 'DROP TABLE data')).toThrow(TypeError);
    expect(store.devices.getMeta('d1')?.acl).toEqual({});
    expect(store.devices.getMeta('d2')?.acl).toEqual({ data_read: { q: 'SELECT 1' } });
    expect(store.devices.count()).toBe(2);
  });

  it('a write that fails reloads the row: memory never keeps a value the table refused', async () => {
    store.devices.getMeta('d1');
    store.registry.exec(
      `CREATE TRIGGER no_bad BEFORE UPDATE OF name ON devices WHEN NEW.name = 'bad'
         BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    );
    await expect(store.devices.rename('d1', 'bad')).rejects.toThrow(/refused/);
    expect(store.devices.getMeta('d1')?.name).toBe('d1');
    // Changed in the table behind the repo's back, then a failed write: the table is the truth.
    store.registry.prepare("UPDATE devices SET name = 'table' WHERE id = 'd1'").run();
    await expect(store.devices.update('d1', { name: 'bad', acl: {} })).rejects.toThrow(/refused/);
    expect(store.devices.getMeta('d1')?.name).toBe('table');
  });

  it('shows renames, ACL changes and last_seen once written, and a delete at once', async () => {
    store.devices.getMeta('d1');
    await store.devices.rename('d1', 'renamed');
    expect(store.devices.getMeta('d1')?.name).toBe('renamed');
    await store.devices.update('d1', { acl: { rpc: 'x' } as never, name: 'n2' });
    expect(store.devices.getMeta('d1')).toMatchObject({ name: 'n2', acl: { rpc: 'x' } });
    await store.devices.setLastSeen('d1', 77);
    expect(store.devices.getMeta('d1')?.last_seen).toBe(77);
    expect(store.devices.remove('d1')).toBe(true);
    expect(store.devices.getMeta('d1')).toBeUndefined();
  });

  it('a read while a write is queued is not kept past that write', async () => {
    store.devices.getMeta('d1');
    const w = store.devices.rename('d1', 'later');
    expect(store.devices.getMeta('d1')?.name).toBe('d1'); // not yet committed
    await w;
    expect(store.devices.getMeta('d1')?.name).toBe('later');
  });

  it('sees another connection delete or rename a device within OUTSIDE_CHECK_MS, and a new one at once', async () => {
    store.devices.insert(rec('d2'));
    store.devices.getMeta('d1');
    store.devices.getMeta('d2');
    const cli = openStore(dir, 0);
    try {
      expect(cli.devices.remove('d1')).toBe(true);
      cli.registry.prepare("UPDATE devices SET name = 'cli' WHERE id = 'd2'").run();
      cli.devices.insert(rec('d3'));
    } finally {
      cli.close();
    }
    // Found at once: a miss asks SQLite again (a device the CLI just added can log in).
    expect(store.devices.getMeta('d3')?.name).toBe('d3');
    expect(store.devices.byToken('tok-d3')?.id).toBe('d3');
    await sleep(OUTSIDE_CHECK_MS + 5);
    expect(store.devices.getMeta('d1')).toBeUndefined();
    expect(store.devices.getMeta('d2')?.name).toBe('cli');
  });

  it('a login (byToken) reads the row without its shadow and leaves it for the session steps', () => {
    // A shadow that cannot be parsed: a login that parsed it would throw.
    store.registry.prepare("UPDATE devices SET shadow = '{broken' WHERE id = 'd1'").run();
    const login = store.devices.byToken('tok-d1');
    expect(login).toMatchObject({ id: 'd1', name: 'd1', token: 'tok-d1' });
    expect(login).not.toHaveProperty('shadow');
    expect(store.devices.byToken('tok-nope')).toBeUndefined();
    // Served from memory now: changed behind the repo's back, getMeta still says 'd1'.
    store.registry.prepare("UPDATE devices SET name = 'x' WHERE id = 'd1'").run();
    expect(store.devices.getMeta('d1')?.name).toBe('d1');
  });

  it('a login row is dropped when another connection writes', async () => {
    store.devices.byToken('tok-d1');
    const cli = openStore(dir, 0);
    try {
      cli.registry.prepare("UPDATE devices SET name = 'cli' WHERE id = 'd1'").run();
    } finally {
      cli.close();
    }
    await sleep(OUTSIDE_CHECK_MS + 5);
    expect(store.devices.getMeta('d1')?.name).toBe('cli');
  });

  it("reads the stored shadow alone (a login's first write builds on it), as committed", async () => {
    expect(store.devices.shadow('d1')).toEqual(rec('d1').shadow);
    expect(store.devices.shadow('nope')).toBeUndefined();
    const next = { ...rec('d1').shadow, version: 7 };
    await store.devices.update('d1', { shadow: next });
    expect(store.devices.shadow('d1')).toEqual(next);
    // Only the shadow column is read: a broken ACL does not matter to it.
    store.registry.prepare("UPDATE devices SET acl = '{broken' WHERE id = 'd1'").run();
    expect(store.devices.shadow('d1')).toEqual(next);
  });
});
