/**
 * The notification log groups its rows: every row appended within one flush window goes in ONE
 * hand-over (log-repo.ts), up to LOG_BATCH_ROWS, with the data text the caller already has, into
 * its own file (log.db), not the registry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/main/store/store';
import { LOG_BATCH_ROWS } from '../../../src/main/store/log-repo';

let store: Store | undefined;
let dir: string | undefined;
afterEach(() => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  store = undefined;
});

describe('LogRepo batching', () => {
  it('stores every row in order with one queued write per batch', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-batch-'));
    store = openStore(dir, 20);
    const registryWrites = store.committer.stats.writes;
    const n = LOG_BATCH_ROWS + 10;
    const done: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const data = { i };
      // Every other row comes with its data text precomputed, as the bus gives it.
      done.push(
        store.log.append(
          { name: 'rpc.in.X', id: 'd1', data },
          1000 + i,
          i % 2 ? `{"i":${i}}` : undefined,
        ),
      );
    }
    // Two hand-overs (a full batch, then the rest), not one per row: the same promise for all
    // rows of a batch.
    expect(new Set(done).size).toBe(2);
    await Promise.all(done);
    // The log has a file of its own: the registry's committer wrote nothing of it.
    expect(store.committer.stats.writes).toBe(registryWrites);
    const rows = await store.log.query({ start: 0, limit: n + 5 });
    expect(rows.length).toBe(n);
    expect(rows.map((r) => (r.data as { i: number }).i)).toEqual([...Array(n).keys()]);
    expect(rows[3]).toMatchObject({ name: 'rpc.in.X', id: 'd1', timestamp: 1003 });
  });

  it('a row appended after its batch was written starts a new one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-log-batch-'));
    store = openStore(dir, 1);
    await store.log.append({ name: 'a', id: 'd', data: 1 }, 1);
    await store.log.append({ name: 'b', id: 'd', data: 2 }, 2);
    expect((await store.log.query({ start: 0, limit: 10 })).map((r) => r.name)).toEqual(['a', 'b']);
  });
});
