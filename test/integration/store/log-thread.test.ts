/**
 * The notification log's writers (log-repo.ts): the loop while the log is quiet, a worker thread
 * while it is busy, one at a time, so every row lands once and in append order across the
 * switches; reads are answered after the rows appended before them; a thread that cannot start
 * leaves the loop writing; a data dir whose registry still holds the log has it moved to log.db.
 * Real SQLite files and a real worker thread.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/main/store/store';
import { LOG_FILE, REGISTRY_FILE } from '../../../src/main/store/data-dir';
import { REGISTRY_MIGRATIONS } from '../../../src/main/store/migrations';
import { migrate } from '../../../src/main/store/database';
import { waitFor } from '../../support/hub-harness';

let store: Store | undefined;
let dir: string | undefined;
afterEach(async () => {
  await store?.log.close();
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  store = undefined;
  dir = undefined;
});

function open(opts: Parameters<typeof openStore>[2] = {}): Store {
  dir ??= mkdtempSync(join(tmpdir(), 'fb-log-thread-'));
  store = openStore(dir, 2, opts);
  return store;
}

/** Appends `n` rows numbered from `from`; resolves when all are written. */
function append(s: Store, from: number, n: number): Promise<void[]> {
  const done: Promise<void>[] = [];
  for (let i = from; i < from + n; i++) {
    done.push(s.log.append({ name: 'rpc.in.X', id: `d${i % 3}`, data: { i } }, 1000 + i));
  }
  return Promise.all(done);
}

async function numbers(s: Store): Promise<number[]> {
  const rows = await s.log.query({ start: 0, limit: 1_000_000 });
  // seq grows with the order of appends, whichever writer wrote the row.
  expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((a, b) => a - b));
  return rows.map((r) => (r.data as { i: number }).i);
}

describe('notification log writers', () => {
  it('switches from the loop to the thread and back, every row once and in order', async () => {
    const s = open({ log: { flushMs: 5, workerRows: 100, workerIdleMs: 1500 } });
    await append(s, 0, 10);
    expect(s.log.threaded).toBe(false);
    // A batch of at least workerRows rows starts the thread.
    await append(s, 10, 500);
    expect(s.log.threaded).toBe(true);
    await append(s, 510, 20);
    expect(s.log.threaded).toBe(true);
    // No busy batch for workerIdleMs: the thread ends, the loop writes again.
    await waitFor(() => !s.log.threaded, 5000, 'the thread to end');
    await append(s, 530, 5);
    expect(s.log.threaded).toBe(false);
    expect(await numbers(s)).toEqual([...Array(535).keys()]);
    expect(await s.log.count()).toBe(535);
  });

  it('answers a read after the rows appended before it, while the thread writes', async () => {
    const s = open({ log: { flushMs: 1000, workerRows: 50 } });
    void append(s, 0, 150);
    // Nothing is handed over yet (flushMs 1 s, fewer than batchRows): the read hands the buffer
    // over first, and its 150 rows start the thread.
    expect(await numbers(s)).toEqual([...Array(150).keys()]);
    expect(s.log.threaded).toBe(true);
    expect(s.log.newestMs()).toBe(1149);
    // Retention runs on the thread too.
    expect(await s.log.prune(2000, 1000, 100)).toBe(50);
    expect((await numbers(s))[0]).toBe(50);
  });

  it('close() writes what the thread was handed: all of it is there after reopening', async () => {
    const s = open({ log: { flushMs: 1000, workerRows: 10 } });
    void append(s, 0, 300);
    await s.log.close();
    s.close();
    store = undefined;
    const again = open();
    expect(await numbers(again)).toEqual([...Array(300).keys()]);
  });

  it('a thread that cannot start leaves the loop writing, nothing lost', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-thread-'));
    const broken = join(dir, 'broken-worker.mjs');
    writeFileSync(broken, 'throw new Error("no such build");\n');
    const s = open({ log: { flushMs: 5, workerRows: 20, workerEntry: broken } });
    await append(s, 0, 100);
    expect(s.log.threaded).toBe(false);
    await append(s, 100, 100);
    expect(s.log.threaded).toBe(false);
    expect(await numbers(s)).toEqual([...Array(200).keys()]);
  });

  it('moves the log out of a registry that still holds it (older data dirs and backups)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-thread-'));
    const old = new Database(join(dir, REGISTRY_FILE));
    migrate(old, REGISTRY_MIGRATIONS);
    const insert = old.prepare(
      'INSERT INTO notifications (seq, ts, name, device_id, data) VALUES (?, ?, ?, ?, ?)',
    );
    for (let i = 1; i <= 5; i++) insert.run(i * 10, 1000 + i, 'updated', 'd1', `{"i":${i}}`);
    old.close();

    const s = open();
    const rows = await s.log.query({ start: 0, limit: 100 });
    expect(rows.map((r) => [r.seq, r.timestamp, (r.data as { i: number }).i])).toEqual([
      [10, 1001, 1],
      [20, 1002, 2],
      [30, 1003, 3],
      [40, 1004, 4],
      [50, 1005, 5],
    ]);
    // New rows continue after the moved ones.
    await append(s, 6, 1);
    expect((await s.log.query({ start: 0, limit: 1 }))[0]?.seq).toBe(51);
    const tables = s.registry
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'notifications'")
      .all();
    expect(tables).toEqual([]);
    await s.log.close();
    s.close();
    // Reopening moves nothing twice.
    store = open();
    expect(await store.log.count()).toBe(6);
    const file = new Database(join(dir, LOG_FILE), { readonly: true });
    expect(file.prepare('SELECT COUNT(*) AS n FROM notifications').get()).toEqual({ n: 6 });
    file.close();
  });
});
