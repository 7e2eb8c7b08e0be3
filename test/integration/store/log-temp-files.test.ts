/**
 * The log commits without temporary files: a multi-row INSERT keeps a statement journal, and on a
 * connection with SQLite's default temp store that journal spills to an unlinked file in /var/tmp
 * once it passes 64 KiB, opened and written again in every commit (issue 11: a quarter of the log
 * thread's pwrites). Seen here as the open file descriptors of this process while a batch's
 * transaction is still open (SQLite closes the journal file when the transaction ends).
 */
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogTable, openLogDb } from '../../../src/main/store/log-sql';

const PROC_FD = '/proc/self/fd';

/** Paths of this process's open files that SQLite's temporary files would have. */
function openTempFiles(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(PROC_FD)) {
    try {
      const target = readlinkSync(`${PROC_FD}/${fd}`);
      if (target.includes('etilqs_')) out.push(target);
    } catch {
      // The fd closed between the listing and the read (readdir's own fd).
    }
  }
  return out;
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe.runIf(process.platform === 'linux')('log.db temp store', () => {
  it('keeps the statement journal of a large batch in memory', () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-temp-'));
    const db = openLogDb(join(dir, 'log.db'));
    try {
      expect(db.pragma('temp_store', { simple: true })).toBe(2);
      const table = new LogTable(db);
      const cols: (number | string)[] = [];
      // 2,000 rows of 200 bytes: each 64-row statement rewrites pages the batch already changed.
      for (let i = 0; i < 2000; i++) cols.push(i, 'rpc.in.X', `d${i % 97}`, 'x'.repeat(200));
      let during: string[] = [];
      db.transaction(() => {
        table.insertRows(cols);
        table.insertRows(cols);
        during = openTempFiles();
      })();
      expect(during).toEqual([]);
      expect(table.count()).toBe(4000);
    } finally {
      db.close();
    }
  });
});
