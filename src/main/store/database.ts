/**
 * Opens a SQLite file the way every Fleetbench database is opened: WAL (readers never block the
 * writer; CLI commands can work on a running hub's files), FULL sync so a committed change is
 * durable before we acknowledge it, a busy timeout for the CLI/hub overlap, and numbered migrations.
 */
import Database from 'better-sqlite3';
import { makePrivate } from './data-dir';
import { electronNativeBinding } from './native-binding';

export type Db = Database.Database;

/** Pages the WAL may grow to before SQLite checkpoints it (default 1000). */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

export function openDatabase(path: string, migrations: readonly string[]): Db {
  const nativeBinding = electronNativeBinding();
  const db = new Database(path, nativeBinding ? { nativeBinding } : {});
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Checkpoints run on the event loop (copy WAL pages into the database and fsync it). A larger
  // WAL (~40 MB instead of ~4 MB) makes them ten times rarer under a storm of shadow updates;
  // each costs more, but far less in total (bench/RESULTS.md).
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  migrate(db, migrations);
  for (const suffix of ['', '-wal', '-shm']) makePrivate(path + suffix);
  return db;
}

export function migrate(db: Db, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let n = current; n < migrations.length; n++) {
    const sql = migrations[n];
    if (sql === undefined) break;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${n + 1}`);
    })();
  }
}
