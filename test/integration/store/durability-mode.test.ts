/**
 * Durability as the store really runs it (issue 7 item 22). The SIGKILL test (durability.test.ts)
 * kills a process, not a machine: the kernel still writes the page cache out afterwards, so it
 * passes without any fsync at all. These tests catch a missing or misplaced flush:
 *
 * - the store's databases run in WAL mode with `synchronous = FULL`, and every acknowledged
 *   group-commit write waited for an fdatasync of its database's WAL file (counted through the
 *   store's injectable flush function);
 * - a power cut: the database and its WAL are copied as they stood at the last completed fdatasync
 *   (the WAL truncated to its size when that flush was called; nothing written after it is
 *   assumed to survive), reopened, and every write acknowledged before the cut must be there.
 */
import {
  copyFileSync,
  fdatasync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/main/store/store';
import { REGISTRY_FILE, ACCOUNT_FILE } from '../../../src/main/store/data-dir';
import type { FlushFn } from '../../../src/main/store/group-commit';
import { emptyShadow } from '../../../src/main/shadow/shadow';
import type { ShadowDoc } from '../../../src/shared/types';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

const device = (id: string) => ({
  id,
  name: id,
  token: `token-${id}-0123456789abcdef`,
  acl: {},
  shadow: emptyShadow(0),
  created: 1,
  last_seen: 0,
});

const shadowAt = (version: number): ShadowDoc => ({
  ...emptyShadow(1),
  tags: { pad: 'x'.repeat(200), v: String(version) },
  version,
});

describe('the durability mode the store runs with', () => {
  let dir: string;
  let store: Store | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-durmode-'));
  });
  afterEach(() => {
    store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('WAL with synchronous = FULL on both databases', () => {
    store = openStore(dir);
    for (const db of [store.registry, store.account.db]) {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    }
  });

  it('a group-commit write is acknowledged only after an fdatasync of its WAL, called after its commit', async () => {
    const calls: Array<{ path: string; size: number }> = [];
    let hold = false;
    const held: Array<() => void> = [];
    const flush: FlushFn = (fd, cb) => {
      calls.push({ path: readlinkSync(`/proc/self/fd/${fd}`), size: fstatSync(fd).size });
      fdatasync(fd, (err) => (hold ? held.push(() => cb(err)) : cb(err)));
    };
    store = openStore(dir, 2, { fdatasync: flush });
    store.devices.insert(device('d1'));
    const walPath = join(dir, `${REGISTRY_FILE}-wal`);
    const walSizeBefore = sizeOf(walPath);

    hold = true;
    let acked = false;
    const write = store.devices.setShadow('d1', shadowAt(1)).then(() => (acked = true));
    await until(() => held.length === 1, 'the flush');
    await sleep(20);
    // Committed (another connection reads it) but not flushed: not acknowledged.
    expect(acked).toBe(false);
    expect(readShadowVersion(join(dir, REGISTRY_FILE), 'd1')).toBe(1);
    // The flush is of this database's WAL, and covers the commit: the WAL had grown by then.
    expect(calls).toHaveLength(1);
    expect(calls[0]?.path).toBe(walPath);
    expect(calls[0]?.size).toBeGreaterThan(walSizeBefore);
    hold = false;
    for (const f of held.splice(0)) f();
    await write;
    expect(acked).toBe(true);
    // Back to FULL for writes outside the committer.
    expect(store.registry.pragma('synchronous', { simple: true })).toBe(2);

    // The account database is flushed the same way.
    await store.account.insertData('d1', 'online', '{}');
    expect(calls.at(-1)?.path).toBe(join(dir, `${ACCOUNT_FILE}-wal`));
  });

  it('a power cut at the last completed fdatasync loses no acknowledged write', async () => {
    // WAL size when each flush was called, per fd, recorded once that flush has completed: the
    // bytes a machine crash right now is guaranteed to keep.
    const synced = new Map<number, number>();
    const flush: FlushFn = (fd, cb) => {
      const size = fstatSync(fd).size;
      fdatasync(fd, (err) => {
        if (!err) {
          // Frames are appended (no checkpoint in this test): the synced prefix only grows.
          expect(size).toBeGreaterThanOrEqual(synced.get(fd) ?? 0);
          synced.set(fd, size);
        }
        cb(err);
      });
    };
    const s = openStore(dir, 1, { fdatasync: flush });
    store = s;
    const ids = Array.from({ length: 16 }, (_, i) => `dev-${i}`);
    for (const id of ids) s.devices.insert(device(id));
    const walPath = join(dir, `${REGISTRY_FILE}-wal`);

    const ackedVersion = new Map<string, number>();
    let acks = 0;
    let stopped = false;
    const writer = async (id: string): Promise<void> => {
      for (let v = 1; !stopped; v++) {
        await s.devices.setShadow(id, shadowAt(v));
        if (stopped) return;
        ackedVersion.set(id, v);
        acks++;
        await new Promise((r) => setImmediate(r));
      }
    };
    const writers = ids.map((id) => writer(id).catch(() => undefined));
    await until(() => acks >= 600, '600 acknowledged writes', 20_000);

    // The cut: in one synchronous step, with writes still in flight, take the files as a
    // machine crash would leave them.
    const crashDir = join(dir, 'crash');
    mkdirSync(crashDir);
    const walFd = [...synced.keys()].find((fd) => readlinkSync(`/proc/self/fd/${fd}`) === walPath);
    expect(walFd).toBeDefined();
    const keep = synced.get(walFd ?? -1) ?? 0;
    const acked = new Map(ackedVersion);
    copyFileSync(join(dir, REGISTRY_FILE), join(crashDir, REGISTRY_FILE));
    copyFileSync(walPath, join(crashDir, `${REGISTRY_FILE}-wal`));
    const walNow = sizeOf(walPath);
    truncateSync(join(crashDir, `${REGISTRY_FILE}-wal`), keep);
    stopped = true;
    await Promise.all(writers);
    expect(walNow).toBeGreaterThanOrEqual(keep);

    const db = new Database(join(crashDir, REGISTRY_FILE));
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const missing: string[] = [];
      for (const [id, version] of acked) {
        const stored = readVersion(db, id);
        if (stored < version) missing.push(`${id}: acked v${version}, stored v${stored}`);
      }
      expect(missing).toEqual([]);
      expect(acked.size).toBe(ids.length);
    } finally {
      db.close();
    }
  }, 30_000);
});

/** A file's size, 0 when it does not exist (yet). */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readVersion(db: Database.Database, id: string): number {
  const row = db
    .prepare<[string], { shadow: string }>('SELECT shadow FROM devices WHERE id = ?')
    .get(id);
  return row ? (JSON.parse(row.shadow) as ShadowDoc).version : -1;
}

function readShadowVersion(path: string, id: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return readVersion(db, id);
  } finally {
    db.close();
  }
}
