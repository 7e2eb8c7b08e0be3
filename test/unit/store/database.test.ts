/**
 * Opening databases and running numbered migrations (src/main/store/database.ts, migrations.ts):
 * opening twice is harmless, only missing migrations run, and a failing migration leaves the
 * database at the last good version.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../../src/main/store/database';
import { ACCOUNT_MIGRATIONS, REGISTRY_MIGRATIONS } from '../../../src/main/store/migrations';

function tables(db: Db): string[] {
  return (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index') ORDER BY name")
      .all() as { name: string }[]
  )
    .map((r) => r.name)
    .filter((n) => !n.startsWith('sqlite_'));
}

const version = (db: Db): number => db.pragma('user_version', { simple: true }) as number;

describe('openDatabase and migrations', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-db-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['registry', REGISTRY_MIGRATIONS],
    ['account', ACCOUNT_MIGRATIONS],
  ])('the %s schema migrates once; opening again changes nothing and keeps the data', (_n, m) => {
    const path = join(dir, 'x.db');
    const first = openDatabase(path, m);
    expect(version(first)).toBe(m.length);
    const schema = tables(first);
    expect(schema.length).toBeGreaterThan(0);
    const firstTable = schema.find((n) => ['devices', 'data'].includes(n));
    expect(firstTable).toBeDefined();
    const count = (db: Db): number =>
      (db.prepare(`SELECT COUNT(*) AS n FROM ${firstTable}`).get() as { n: number }).n;
    if (firstTable === 'data') {
      first.prepare("INSERT INTO data (device_id, topic, message) VALUES ('d', 't', '{}')").run();
    } else {
      first
        .prepare(
          "INSERT INTO devices (id, name, token, token_hash, shadow, created) VALUES ('d','d','t',x'00','{}',1)",
        )
        .run();
    }
    first.close();
    for (let i = 0; i < 2; i++) {
      const again = openDatabase(path, m);
      expect(version(again)).toBe(m.length);
      expect(tables(again)).toEqual(schema);
      expect(count(again)).toBe(1);
      again.close();
    }
  });

  it('opens in WAL mode with full sync and owner-only files', () => {
    const path = join(dir, 'y.db');
    const db = openDatabase(path, REGISTRY_MIGRATIONS);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    if (process.platform !== 'win32') {
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
    db.close();
  });

  it('runs only the migrations a database has not run yet', () => {
    const path = join(dir, 'z.db');
    // Each is a plain CREATE: running one twice would throw "already exists".
    const v1 = ['CREATE TABLE a (x)'];
    const v2 = [...v1, 'CREATE TABLE b (y)'];
    openDatabase(path, v1).close();
    const db = openDatabase(path, v2);
    expect(version(db)).toBe(2);
    expect(tables(db)).toEqual(['a', 'b']);
    db.close();
    const db2 = openDatabase(path, v2);
    expect(version(db2)).toBe(2);
    db2.close();
  });

  it('a failing migration is rolled back whole and the version stays at the last good one', () => {
    const db = new Database(join(dir, 'f.db'));
    expect(() =>
      migrate(db, ['CREATE TABLE good (x)', 'CREATE TABLE half (y); THIS IS NOT SQL']),
    ).toThrow();
    expect(version(db)).toBe(1);
    expect(tables(db)).toEqual(['good']);
    // Fixed up, the same list then completes.
    migrate(db, ['CREATE TABLE good (x)', 'CREATE TABLE half (y)']);
    expect(version(db)).toBe(2);
    expect(tables(db)).toEqual(['good', 'half']);
    db.close();
  });

  it('a database from a newer version (more migrations than we know) is left alone', () => {
    const path = join(dir, 'n.db');
    openDatabase(path, ['CREATE TABLE a (x)', 'CREATE TABLE b (y)']).close();
    const db = openDatabase(path, ['CREATE TABLE a (x)']);
    expect(version(db)).toBe(2);
    db.close();
  });
});
