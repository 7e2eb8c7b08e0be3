/**
 * How a running hub snapshots its databases for a backup (backup-maker.ts): the registry by
 * SQLite's online backup API on the hub's own connection (the hub's writes go through that same
 * connection, so they never restart the copy, and the copy yields the event loop between steps),
 * the account database by `VACUUM INTO` in the SQL process (off the hub's thread; the SQL API's
 * processes write that file too, and an online backup would restart at each of their commits),
 * the notification log by its writer's connection (log-repo.ts `snapshot`).
 */
import { rename } from 'node:fs/promises';
import type { Db } from '../store/database';
import type { LogRepo } from '../store/log-repo';
import type { SqlExecutor } from '../data/sql-executor';
import type { SnapshotSources } from './backup-maker';

export function hubSnapshotSources(
  dataDir: string,
  registry: Db,
  sql: SqlExecutor,
  log: LogRepo,
): SnapshotSources {
  return {
    dataDir,
    registry: async (dest) => {
      await registry.backup(dest);
    },
    account: async (dest) => {
      // Written under <dataDir>/sql-tmp: the same disk, so the move is a rename.
      await rename(await sql.snapshot(), dest);
    },
    log: async (dest) => {
      await log.snapshot(dest);
      return true;
    },
  };
}
