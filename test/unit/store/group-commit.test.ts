/**
 * Group commit (src/main/store/group-commit.ts) on a real SQLite file: writes share one
 * transaction, each caller's promise resolves only once its write is committed (visible to another
 * connection), and one failing write rolls back and rejects alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/main/store/database';
import { GroupCommitter } from '../../../src/main/store/group-commit';

const SCHEMA = ['CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)'];

describe('GroupCommitter', () => {
  let dir: string;
  let path: string;
  let db: Db;
  let reader: Db;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-gc-'));
    path = join(dir, 'test.db');
    db = openDatabase(path, SCHEMA);
    // A second connection sees only what is committed.
    reader = new Database(path, { readonly: true });
  });
  afterEach(() => {
    reader.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const committedCount = (): number =>
    (reader.prepare('SELECT COUNT(*) AS n FROM items').get() as { n: number }).n;

  const insert = (v: string) => (): number =>
    Number(db.prepare('INSERT INTO items (v) VALUES (?)').run(v).lastInsertRowid);

  it('batches concurrent writes into one commit and resolves each only after it', async () => {
    const gc = new GroupCommitter(db, 30);
    const seenAtResolve: number[] = [];
    const writes = Array.from({ length: 200 }, (_, i) =>
      gc.write(insert(`v${i}`)).then((rowid) => {
        seenAtResolve.push(committedCount());
        return rowid;
      }),
    );
    // Within the window: nothing is committed and nothing has resolved.
    await new Promise((r) => setTimeout(r, 5));
    expect(committedCount()).toBe(0);
    expect(seenAtResolve).toHaveLength(0);
    const rowids = await Promise.all(writes);
    // Every caller, when resolved, could already see all 200 rows from another connection.
    expect(seenAtResolve).toHaveLength(200);
    expect(new Set(seenAtResolve)).toEqual(new Set([200]));
    expect(new Set(rowids).size).toBe(200);
    expect(gc.stats).toEqual({ batches: 1, writes: 200 });
  });

  it('a failing write rolls back alone and rejects alone; the rest of the batch commits', async () => {
    const gc = new GroupCommitter(db, 10);
    await gc.write(insert('taken'));
    const results = await Promise.allSettled([
      gc.write(insert('a')),
      // Inserts a row, then fails: its own row must be rolled back too.
      gc.write(() => {
        insert('partial')();
        throw new Error('boom');
      }),
      gc.write(insert('taken')), // UNIQUE violation
      gc.write(insert('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    const second = results[1];
    expect(second?.status === 'rejected' && (second.reason as Error).message).toBe('boom');
    const third = results[2];
    expect(third?.status === 'rejected' && String(third.reason)).toMatch(/UNIQUE/);
    const values = (reader.prepare('SELECT v FROM items ORDER BY id').all() as { v: string }[]).map(
      (r) => r.v,
    );
    expect(values).toEqual(['taken', 'a', 'b']);
  });

  it('commits at once when the batch is full, without waiting out the window', async () => {
    const gc = new GroupCommitter(db, 60_000, { maxBatch: 10 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => gc.write(insert(`f${i}`))));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(committedCount()).toBe(10);
    expect(gc.stats.batches).toBe(1);
    // A partial batch waits for flush() (here: close) instead.
    const rest = gc.write(insert('late'));
    expect(committedCount()).toBe(10);
    gc.close();
    await rest;
    expect(committedCount()).toBe(11);
  });

  it('close() commits what is queued; writes after close reject and change nothing', async () => {
    const gc = new GroupCommitter(db, 60_000);
    const queued = gc.write(insert('q'));
    gc.close();
    await expect(queued).resolves.toBeGreaterThan(0);
    await expect(gc.write(insert('after'))).rejects.toThrow(/closed/);
    expect(committedCount()).toBe(1);
  });

  it('keeps commit order equal to call order', async () => {
    const gc = new GroupCommitter(db, 2);
    await Promise.all(Array.from({ length: 50 }, (_, i) => gc.write(insert(`o${i}`))));
    const values = (reader.prepare('SELECT v FROM items ORDER BY id').all() as { v: string }[]).map(
      (r) => r.v,
    );
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => `o${i}`));
  });
  describe('writeNow (issue 7 items 3 and 13)', () => {
    it('commits everything queued before it first, then runs synchronously and durably', async () => {
      const gc = new GroupCommitter(db, 60_000);
      const queued = gc.write(
        () => void db.prepare("UPDATE items SET v = 'queued' WHERE v = 'x'").run(),
      );
      // The row the queued write targets is created and deleted "now": the queued write must run
      // before both, so it never touches the row created again below.
      gc.writeNow(insert('x'));
      expect(gc.writeNow(() => db.prepare("DELETE FROM items WHERE v = 'x'").run().changes)).toBe(
        1,
      );
      gc.writeNow(insert('x'));
      gc.flush(); // a no-op here: writeNow committed the queue already
      await queued;
      const values = reader.prepare('SELECT v FROM items').pluck().all();
      expect(values).toEqual(['x']);
      gc.close();
    });

    it('throws a constraint failure as it is, and a full database as storage_full', () => {
      const gc = new GroupCommitter(db, 1);
      gc.writeNow(insert('a'));
      expect(() => gc.writeNow(insert('a'))).toThrow(/UNIQUE/);
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      let thrown: unknown;
      try {
        gc.writeNow(() => {
          for (let i = 0; i < 50; i++) insert(`big-${i}-${'x'.repeat(4000)}`)();
        });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject({ kind: 'storage_full', status: 507, code: 507 });
      expect(gc.health()).toMatchObject({ writable: true, last_error: { code: 507 } });
      // Nothing of the failed write is stored, and the committer keeps working.
      expect(committedCount()).toBe(1);
      db.pragma('max_page_count = 1073741823');
      gc.writeNow(insert('b'));
      expect(committedCount()).toBe(2);
      gc.close();
    });

    it('a queued write on a full database rejects with storage_full', async () => {
      const gc = new GroupCommitter(db, 1);
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      await expect(
        gc.write(() => {
          for (let i = 0; i < 50; i++) insert(`big-${i}-${'x'.repeat(4000)}`)();
        }),
      ).rejects.toMatchObject({ kind: 'storage_full' });
      gc.close();
    });
  });
});
