/**
 * Age-based retention of `data` rows (data.retentionMaxAgeMs, off by default): a sweep deletes
 * the old rows in batches through the group committer and leaves the rest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/main/store/store';
import { DataRetention, sqliteTime } from '../../../src/main/data/data-retention';
import { DataStats } from '../../../src/main/data/data-stats';
import { DEFAULT_DATA } from '../../../src/main/config';

let dir = '';
let store: Store | null = null;
afterEach(() => {
  store?.close();
  store = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('data retention', () => {
  it('is off by default', () => {
    expect(DEFAULT_DATA.retentionMaxAgeMs).toBe(0);
  });

  it('deletes rows older than the age in batches and keeps newer ones', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-retention-'));
    store = openStore(dir);
    const db = store.account.db;
    const now = Date.UTC(2026, 5, 1, 12, 0, 0);
    const ins = db.prepare(
      'INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, ?, ?, ?)',
    );
    for (let i = 0; i < 25; i++)
      ins.run(sqliteTime(now - 3 * 3600_000 - i * 1000), 'd', 'old', '1');
    for (let i = 0; i < 5; i++) ins.run(sqliteTime(now - 60_000), 'd', 'new', '1');
    const stats = new DataStats();
    const r = new DataRetention(
      store.account,
      { maxAgeMs: 3600_000, sweepIntervalMs: 60_000, batchRows: 10 },
      stats,
      () => undefined,
    );
    expect(await r.sweep(now)).toBe(25);
    expect(stats.retentionDeleted).toBe(25);
    const left = db.prepare('SELECT topic, count(*) AS n FROM data GROUP BY topic').all();
    expect(left).toEqual([{ topic: 'new', n: 5 }]);
    await r.stop();
  });
});
