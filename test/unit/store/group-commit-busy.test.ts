/**
 * Group commit on a database another connection also writes (`busyRetryMs`, the account database
 * and the SQL API's processes): while the other writer holds the lock, a batch waits off the event
 * loop (timers keep firing on time) and commits once the lock is free; nothing is lost or doubled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/main/store/database';
import { GroupCommitter } from '../../../src/main/store/group-commit';

const SCHEMA = ['CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT NOT NULL)'];

describe('GroupCommitter with busyRetryMs', () => {
  let dir: string;
  let db: Db;
  let other: Db;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-gc-busy-'));
    const path = join(dir, 'test.db');
    db = openDatabase(path, SCHEMA);
    db.pragma('busy_timeout = 0');
    other = new Database(path);
  });
  afterEach(() => {
    other.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries a locked-out batch without blocking the event loop', async () => {
    const gc = new GroupCommitter(db, 1, { busyRetryMs: 5 });
    const stmt = db.prepare<[string]>('INSERT INTO items (v) VALUES (?)');
    other.exec('BEGIN IMMEDIATE');
    other.exec("INSERT INTO items (v) VALUES ('other')");
    const writes = [gc.writeStatement(stmt, 'a'), gc.writeStatement(stmt, 'b')];
    let settled = false;
    void Promise.all(writes).then(() => (settled = true));
    // The loop stays free: 20 timer ticks of 10 ms each arrive on time while the lock is held.
    const t0 = Date.now();
    let worstLag = 0;
    for (let i = 0; i < 20; i++) {
      const before = Date.now();
      await new Promise((r) => setTimeout(r, 10));
      worstLag = Math.max(worstLag, Date.now() - before - 10);
    }
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(worstLag).toBeLessThan(50);
    expect(settled).toBe(false);
    expect(gc.stats.busyRetries ?? 0).toBeGreaterThan(3);
    other.exec('COMMIT');
    await Promise.all(writes);
    const vs = db.prepare('SELECT v FROM items ORDER BY id').pluck().all();
    expect(vs).toEqual(['other', 'a', 'b']);
    gc.close();
  });

  it('without it a locked-out batch fails (the behaviour the option replaces)', async () => {
    const gc = new GroupCommitter(db, 1);
    const stmt = db.prepare<[string]>('INSERT INTO items (v) VALUES (?)');
    other.exec('BEGIN IMMEDIATE');
    other.exec("INSERT INTO items (v) VALUES ('other')");
    await expect(gc.writeStatement(stmt, 'a')).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    other.exec('COMMIT');
    gc.close();
  });
});
