/**
 * The log's device filter reads the (block of 4,096 seqs, device) index block by block
 * (log-sql.ts, migration 2): the same entries, in the same order, with the same start/limit
 * paging as a plain filter of the whole log, across block edges, after retention, and with name
 * filters; and a log.db made before migration 2 gets the new index.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LOG_MIGRATIONS,
  LogTable,
  openLogDb,
  type LogQuery,
} from '../../../src/main/store/log-sql';
import { openDatabase, type Db } from '../../../src/main/store/database';
import type { LogEntry } from '../../../src/shared/types';

let dir: string | undefined;
let db: Db | undefined;
afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  db = dir = undefined;
});

interface Ref {
  seq: number;
  name: string;
  id: string;
}

/** 10,000 rows over three 4,096-seq blocks: 'busy' often, 'rare' in a handful of places. */
function fill(table: LogTable, d: Db): Ref[] {
  const rows: (number | string)[] = [];
  const ref: Ref[] = [];
  const rare = new Set([1, 4095, 4096, 4097, 8191, 9999]);
  for (let seq = 1; seq <= 10_000; seq++) {
    const id = rare.has(seq) ? 'rare' : seq % 3 === 0 ? 'busy' : `d${seq % 7}`;
    const name = seq % 5 === 0 ? 'rpc.out.Log' : seq % 5 === 1 ? 'a_b' : 'rpc.in.Sys.GetInfo';
    rows.push(seq, name, id, `{"n":${seq}}`);
    ref.push({ seq, name, id });
  }
  d.transaction(() => table.insertRows(rows))();
  return ref;
}

/** What the filter must give: the whole log filtered, newest last, paged from the newest end. */
function expected(ref: readonly Ref[], q: LogQuery): number[] {
  const m = ref.filter(
    (r) =>
      (q.device === undefined || r.id === q.device) &&
      (q.name === undefined ||
        (q.name.endsWith('*') ? r.name.startsWith(q.name.slice(0, -1)) : r.name === q.name)),
  );
  const end = Math.max(0, m.length - q.start);
  return m.slice(Math.max(0, end - q.limit), end).map((r) => r.seq);
}

const seqs = (rows: LogEntry[]): number[] => rows.map((r) => r.seq);

describe('log device filter by block', () => {
  it('matches a plain filter of the whole log for devices, names, starts and limits', () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-dev-'));
    db = openLogDb(join(dir, 'log.db'));
    const table = new LogTable(db);
    const ref = fill(table, db);
    let checked = 0;
    for (const device of ['rare', 'busy', 'd1', 'nobody'])
      for (const name of [undefined, 'rpc.in.*', 'a_b', 'a%*', 'rpc.out.Log'])
        for (const start of [0, 1, 3, 5, 1000, 3000, 20_000])
          for (const limit of [1, 2, 6, 100, 5000]) {
            const q: LogQuery = { start, limit, device, ...(name !== undefined && { name }) };
            expect(seqs(table.query(q)), JSON.stringify(q)).toEqual(expected(ref, q));
            checked++;
          }
    expect(checked).toBe(700);
    // The rare device's rows across all three blocks, oldest first, with their data.
    const rare = table.query({ start: 0, limit: 100, device: 'rare' });
    expect(seqs(rare)).toEqual([1, 4095, 4096, 4097, 8191, 9999]);
    expect(rare[5]).toMatchObject({ id: 'rare', name: 'rpc.in.Sys.GetInfo', data: { n: 9999 } });
  });

  it('searches the block index, not the table', () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-dev-'));
    db = openLogDb(join(dir, 'log.db'));
    const plan = db
      .prepare(
        'EXPLAIN QUERY PLAN SELECT seq, ts, name, device_id, data FROM notifications WHERE (seq >> 12) = ? AND device_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?',
      )
      .all(1, 'x', 10, 0) as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(
      /SEARCH notifications USING INDEX notifications_device_block/,
    );
    expect(plan.map((p) => p.detail).join(' ')).not.toMatch(/TEMP B-TREE/);
  });

  it('pages correctly after retention removed the oldest blocks part way', () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-dev-'));
    db = openLogDb(join(dir, 'log.db'));
    const table = new LogTable(db);
    const ref = fill(table, db);
    // Keep the newest 5,000 (seq 5001..10000): the oldest kept block starts part way.
    table.prune({ nowMs: 0, maxAgeMs: 0, maxEntries: 5000 });
    const kept = ref.filter((r) => r.seq > 5000);
    for (const device of ['rare', 'busy'])
      for (const start of [0, 2, 1500]) {
        const q = { start, limit: 10_000, device };
        expect(seqs(table.query(q))).toEqual(expected(kept, q));
      }
    table.prune({ nowMs: 0, maxAgeMs: 0, maxEntries: 0 });
    expect(table.query({ start: 0, limit: 10, device: 'rare' })).toEqual([]);
  });

  it('finds a device past seq 2^31 (blocks counted on 64 bits, as SQLite does)', () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-dev-'));
    db = openLogDb(join(dir, 'log.db'));
    const table = new LogTable(db);
    // AUTOINCREMENT goes on from the largest seq: a hub that has logged 2^31 rows.
    db.prepare(
      "INSERT INTO notifications (seq, ts, name, device_id, data) VALUES (?, 0, 'x', 'old', 'null')",
    ).run(2 ** 31 + 4000);
    const rows: (number | string)[] = [];
    for (let i = 0; i < 300; i++) rows.push(i, 'rpc.in.X', i % 3 === 0 ? 'dev' : 'other', 'null');
    db.transaction(() => table.insertRows(rows))();
    const got = seqs(table.query({ start: 0, limit: 1000, device: 'dev' }));
    expect(got).toHaveLength(100);
    expect(got[0]).toBe(2 ** 31 + 4001);
    expect(seqs(table.query({ start: 0, limit: 5, device: 'old' }))).toEqual([2 ** 31 + 4000]);
  });

  it('gives a log.db from before the block index the new index, rows kept', () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-dev-'));
    const path = join(dir, 'log.db');
    const old = openDatabase(path, LOG_MIGRATIONS.slice(0, 1));
    const ref = fill(new LogTable(old), old);
    old.close();
    db = openLogDb(path);
    const indexes = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]
    ).map((r) => r.name);
    expect(indexes).toContain('notifications_device_block');
    expect(indexes).not.toContain('notifications_device');
    const q = { start: 0, limit: 100, device: 'rare' };
    expect(seqs(new LogTable(db).query(q))).toEqual(expected(ref, q));
  });
});
