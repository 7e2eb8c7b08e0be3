/**
 * Opens everything a hub (or a CLI command working on a hub's data dir) keeps on disk.
 */
import { join } from 'node:path';
import type { HubError } from '../../shared/errors';
import { openDatabase, type Db } from './database';
import { ACCOUNT_FILE, LOG_FILE, REGISTRY_FILE, ensureDataDir } from './data-dir';
import { ACCOUNT_MIGRATIONS, REGISTRY_MIGRATIONS } from './migrations';
import { GroupCommitter, type FlushFn, type StorageHealth } from './group-commit';
import { DevicesRepo } from './devices-repo';
import { KeysRepo } from './keys-repo';
import { LogRepo, type LogRepoOptions } from './log-repo';
import { moveLegacyLog, openLogDb } from './log-sql';
import { OutsideWrites } from './outside-writes';
import { AccountDb } from './account-db';
import { FirmwareRepo } from './firmware-repo';
import { OtaJobsRepo } from './ota-jobs-repo';
import { RolloutsRepo } from './rollouts-repo';
import { CustomersRepo } from './customers-repo';

/** Told of every storage failure: which database, the catalog error, and whether writes stopped. */
export type StorageErrorListener = (
  db: 'registry' | 'account' | 'log',
  err: HubError,
  fatal: boolean,
) => void;

export interface StoreOptions {
  /** Flushes the WAL files; `fs.fdatasync` unless a test injects its own (issue 7 item 22). */
  fdatasync?: FlushFn;
  /** How the notification log buffers its rows (log-repo.ts); tests shorten or lengthen it. */
  log?: LogRepoOptions;
}

export interface Store {
  readonly registry: Db;
  readonly committer: GroupCommitter;
  readonly devices: DevicesRepo;
  readonly keys: KeysRepo;
  readonly log: LogRepo;
  readonly account: AccountDb;
  readonly firmware: FirmwareRepo;
  readonly otaJobs: OtaJobsRepo;
  readonly rollouts: RolloutsRepo;
  readonly customers: CustomersRepo;
  /** Whether each database still takes writes, and its last storage failure (hub status). */
  health(): { registry: StorageHealth; account: StorageHealth };
  /** Subscribes to storage failures (the hub logs them); returns the unsubscribe. */
  onStorageError(listener: StorageErrorListener): () => void;
  close(): void;
}

/** How long the account committer waits before retrying a batch another writer locked out. */
export const ACCOUNT_BUSY_RETRY_MS = 5;

export function openStore(dataDir: string, commitWindowMs = 2, opts: StoreOptions = {}): Store {
  ensureDataDir(dataDir);
  const registry = openDatabase(join(dataDir, REGISTRY_FILE), REGISTRY_MIGRATIONS);
  const accountDb = openDatabase(join(dataDir, ACCOUNT_FILE), ACCOUNT_MIGRATIONS);
  const logFile = join(dataDir, LOG_FILE);
  const logDb = openLogDb(logFile);
  moveLegacyLog(registry, logFile);
  // The SQL API writes this file from its own processes (data/sql-executor.ts). SQLite's busy
  // handler would sleep on the event loop while one of them holds the write lock: the hub's
  // connection never waits there, its group commit retries the batch instead (busyRetryMs).
  accountDb.pragma('busy_timeout = 0');
  const listeners = new Set<StorageErrorListener>();
  const report =
    (db: 'registry' | 'account' | 'log') =>
    (err: HubError, fatal: boolean): void => {
      for (const l of listeners) l(db, err, fatal);
    };
  const committer = new GroupCommitter(registry, commitWindowMs, {
    ...(opts.fdatasync && { fdatasync: opts.fdatasync }),
    onStorageError: report('registry'),
  });
  const accountCommitter = new GroupCommitter(accountDb, commitWindowMs, {
    busyRetryMs: ACCOUNT_BUSY_RETRY_MS,
    ...(opts.fdatasync && { fdatasync: opts.fdatasync }),
    onStorageError: report('account'),
  });
  // The log's own committer: it writes log.db on the loop while the log is quiet (log-repo.ts).
  const logCommitter = new GroupCommitter(logDb, commitWindowMs, {
    ...(opts.fdatasync && { fdatasync: opts.fdatasync }),
    onStorageError: report('log'),
  });
  const log = new LogRepo(logDb, logCommitter, logFile, opts.log);
  const outside = new OutsideWrites(registry);
  return {
    registry,
    committer,
    devices: new DevicesRepo(registry, committer, outside),
    keys: new KeysRepo(registry, committer, outside),
    log,
    account: new AccountDb(accountDb, accountCommitter),
    firmware: new FirmwareRepo(registry),
    otaJobs: new OtaJobsRepo(registry),
    rollouts: new RolloutsRepo(registry),
    customers: new CustomersRepo(registry, committer),
    health: () => ({ registry: committer.health(), account: accountCommitter.health() }),
    onStorageError(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close() {
      // The log's buffered rows go into its committer's last batch, or to its thread.
      log.closeNow();
      logCommitter.close();
      committer.close();
      accountCommitter.close();
      registry.close();
      accountDb.close();
      logDb.close();
    },
  };
}
