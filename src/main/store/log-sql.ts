/**
 * The notification log's file (`log.db`, PROTOCOL.md 7) and its statements, the same whichever
 * thread writes it (log-repo.ts on the hub's loop, log-worker.ts on a worker thread).
 *
 * The log has a file of its own rather than a table of the registry: SQLite lets one connection
 * write a file at a time, so a worker thread inserting into the registry would take the write
 * lock away from the hub's group commit. Its own file also keeps its rows out of the registry's
 * WAL and checkpoints.
 */
import type { Db } from './database';
import { openDatabase } from './database';
import type { Json, LogEntry } from '../../shared/types';

/** Numbered migrations of `log.db` (append only, like migrations.ts). */
export const LOG_MIGRATIONS: readonly string[] = [
  // 1: the table the registry held before (migrations.ts 1), unchanged.
  `CREATE TABLE notifications (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     ts INTEGER NOT NULL,
     name TEXT NOT NULL,
     device_id TEXT NOT NULL,
     data TEXT NOT NULL
   );
   CREATE INDEX notifications_ts ON notifications(ts);
   CREATE INDEX notifications_device ON notifications(device_id, seq);`,
];

/** One stored notification's columns: ts (ms), name, device id, data JSON. */
type LogRow = [number, string, string, string];

/**
 * Rows as they are buffered and sent to the log's thread: their columns one after the other
 * (LOG_COLUMNS per row), not an array per row. A batch of 2,000 rows is then one array for
 * postMessage to copy, not 2,001, and the multi-row INSERT takes slices of it as they are.
 */
export type LogRows = (number | string)[];

export const LOG_COLUMNS = 4;

export interface LogQuery {
  /** Skip this many of the newest matching entries (0 = up to the newest). */
  start: number;
  limit: number;
  device?: string;
  name?: string;
}

/** What retention keeps (config.ts `retention`). */
export interface LogPrune {
  nowMs: number;
  maxAgeMs: number;
  maxEntries: number;
}

interface Row {
  seq: number;
  ts: number;
  name: string;
  device_id: string;
  data: string;
}

/**
 * Rows one INSERT statement carries: a statement per row cost more in binding and stepping than
 * the row's B-tree inserts (issue 11 profile).
 */
const ROWS_PER_INSERT = 64;

export function openLogDb(path: string): Db {
  return openDatabase(path, LOG_MIGRATIONS);
}

/** The log's statements on one connection. Writes are the caller's to put in a transaction. */
export class LogTable {
  private readonly insertStmt;
  private readonly insertManyStmt;
  private readonly countStmt;
  private readonly maxSeqStmt;
  private readonly newestStmt;
  private readonly pruneAgeStmt;
  private readonly pruneCountStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare<LogRow>(
      'INSERT INTO notifications (ts, name, device_id, data) VALUES (?, ?, ?, ?)',
    );
    this.insertManyStmt = db.prepare<(number | string)[]>(
      'INSERT INTO notifications (ts, name, device_id, data) VALUES ' +
        Array.from({ length: ROWS_PER_INSERT }, () => '(?, ?, ?, ?)').join(', '),
    );
    this.countStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM notifications');
    this.maxSeqStmt = db.prepare<[], { m: number | null }>(
      'SELECT MAX(seq) AS m FROM notifications',
    );
    this.newestStmt = db.prepare<[], { ts: number }>(
      'SELECT ts FROM notifications ORDER BY seq DESC LIMIT 1',
    );
    this.pruneAgeStmt = db.prepare<[number]>('DELETE FROM notifications WHERE ts < ?');
    this.pruneCountStmt = db.prepare<[number]>('DELETE FROM notifications WHERE seq <= ?');
  }

  /** Inserts in order: whole chunks of ROWS_PER_INSERT by one statement, the rest one by one. */
  insertRows(rows: readonly (number | string)[]): void {
    const chunk = ROWS_PER_INSERT * LOG_COLUMNS;
    let i = 0;
    for (; i + chunk <= rows.length; i += chunk)
      this.insertManyStmt.run(...rows.slice(i, i + chunk));
    for (; i + LOG_COLUMNS <= rows.length; i += LOG_COLUMNS) {
      this.insertStmt.run(...(rows.slice(i, i + LOG_COLUMNS) as LogRow));
    }
  }

  /** Newest last: the `limit` entries just before the `start` newest ones that match. */
  query(q: LogQuery): LogEntry[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.device !== undefined) {
      where.push('device_id = ?');
      params.push(q.device);
    }
    if (q.name !== undefined) {
      // A trailing '*' selects a family of names, e.g. 'rpc.out.*'.
      if (q.name.endsWith('*')) {
        where.push("name LIKE ? ESCAPE '\\'");
        params.push(q.name.slice(0, -1).replace(/[\\%_]/g, (c) => '\\' + c) + '%');
      } else {
        where.push('name = ?');
        params.push(q.name);
      }
    }
    const sql =
      'SELECT seq, ts, name, device_id, data FROM notifications' +
      (where.length ? ' WHERE ' + where.join(' AND ') : '') +
      ' ORDER BY seq DESC LIMIT ? OFFSET ?';
    const rows = this.db.prepare<(string | number)[], Row>(sql).all(...params, q.limit, q.start);
    return rows.reverse().map((r) => ({
      seq: r.seq,
      timestamp: r.ts,
      name: r.name,
      id: r.device_id,
      data: JSON.parse(r.data) as Json,
    }));
  }

  count(): number {
    return this.countStmt.get()?.n ?? 0;
  }

  /** The newest entry's time (ms), or null for an empty log. */
  newestMs(): number | null {
    return this.newestStmt.get()?.ts ?? null;
  }

  /** Applies retention; returns how many entries were removed. */
  prune(p: LogPrune): number {
    let removed = this.pruneAgeStmt.run(p.nowMs - p.maxAgeMs).changes;
    const max = this.maxSeqStmt.get()?.m ?? 0;
    if (max > p.maxEntries) removed += this.pruneCountStmt.run(max - p.maxEntries).changes;
    return removed;
  }
}

/**
 * Moves the rows of a registry that still holds the log (every data dir before `log.db`, and
 * backups made then) into `log.db`, keeping their `seq`, then drops the registry's table.
 * Idempotent: a crash between the copy and the drop copies again, and `OR IGNORE` skips the rows
 * already there (the two files do not commit as one in WAL mode). Runs once per data dir (and
 * once more after restoring a backup made before log.db).
 */
export function moveLegacyLog(registry: Db, logPath: string): void {
  const has = registry
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notifications'")
    .get();
  if (has === undefined) return;
  registry.prepare('ATTACH DATABASE ? AS log').run(logPath);
  try {
    registry.exec(
      'INSERT OR IGNORE INTO log.notifications (seq, ts, name, device_id, data) ' +
        'SELECT seq, ts, name, device_id, data FROM main.notifications',
    );
  } finally {
    registry.exec('DETACH DATABASE log');
  }
  registry.exec('DROP TABLE main.notifications');
  // Gives the log's pages back to the disk, once: the registry of a busy hub held tens of MB of
  // them, which would otherwise stay in the file as free pages.
  registry.exec('VACUUM');
}
