/**
 * How often the registry's in-memory copies ask SQLite whether another connection committed
 * (outside-writes.ts): at most once per OUTSIDE_CHECK_MS on a clock the test moves, and at once when
 * forced. Real SQLite files: a second connection commits for real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OUTSIDE_CHECK_MS, OutsideWrites } from '../../../src/main/store/outside-writes';

describe('OutsideWrites', () => {
  let dir: string;
  let hub: Database.Database;
  let cli: Database.Database;
  let clock: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-outside-'));
    hub = new Database(join(dir, 'r.db'));
    hub.pragma('journal_mode = WAL');
    hub.exec('CREATE TABLE t (x)');
    cli = new Database(join(dir, 'r.db'));
    clock = 1000;
  });
  afterEach(() => {
    cli.close();
    hub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees another connection commit once its last check is OUTSIDE_CHECK_MS old', () => {
    const outside = new OutsideWrites(hub, OUTSIDE_CHECK_MS, () => clock);
    const before = outside.current();
    cli.prepare('INSERT INTO t VALUES (1)').run();
    clock += OUTSIDE_CHECK_MS - 1;
    expect(outside.current()).toBe(before); // checked 9 ms ago: not asked again
    clock += 1;
    const after = outside.current();
    expect(after).not.toBe(before);
    // Its own writes do not change it (data_version counts other connections' commits).
    hub.prepare('INSERT INTO t VALUES (2)').run();
    clock += OUTSIDE_CHECK_MS;
    expect(outside.current()).toBe(after);
  });

  it('asks at once when forced, and the check restarts the interval', () => {
    const outside = new OutsideWrites(hub, OUTSIDE_CHECK_MS, () => clock);
    const before = outside.current();
    cli.prepare('INSERT INTO t VALUES (1)').run();
    const forced = outside.current(true);
    expect(forced).not.toBe(before);
    cli.prepare('INSERT INTO t VALUES (2)').run();
    clock += OUTSIDE_CHECK_MS - 1;
    expect(outside.current()).toBe(forced);
  });
});
