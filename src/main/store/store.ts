/**
 * Opens everything a hub (or a CLI command working on a hub's data dir) keeps on disk.
 */
import { join } from 'node:path';
import { openDatabase, type Db } from './database';
import { ACCOUNT_FILE, REGISTRY_FILE, ensureDataDir } from './data-dir';
import { ACCOUNT_MIGRATIONS, REGISTRY_MIGRATIONS } from './migrations';
import { GroupCommitter } from './group-commit';
import { DevicesRepo } from './devices-repo';
import { KeysRepo } from './keys-repo';
import { LogRepo } from './log-repo';
import { AccountDb } from './account-db';

export interface Store {
  readonly registry: Db;
  readonly committer: GroupCommitter;
  readonly devices: DevicesRepo;
  readonly keys: KeysRepo;
  readonly log: LogRepo;
  readonly account: AccountDb;
  close(): void;
}

export function openStore(dataDir: string, commitWindowMs = 2): Store {
  ensureDataDir(dataDir);
  const registry = openDatabase(join(dataDir, REGISTRY_FILE), REGISTRY_MIGRATIONS);
  const accountDb = openDatabase(join(dataDir, ACCOUNT_FILE), ACCOUNT_MIGRATIONS);
  const committer = new GroupCommitter(registry, commitWindowMs);
  const accountCommitter = new GroupCommitter(accountDb, commitWindowMs);
  return {
    registry,
    committer,
    devices: new DevicesRepo(registry, committer),
    keys: new KeysRepo(registry),
    log: new LogRepo(registry, committer),
    account: new AccountDb(accountDb, accountCommitter),
    close() {
      committer.close();
      accountCommitter.close();
      registry.close();
      accountDb.close();
    },
  };
}
