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
  // 2: the device index keyed by the row's block of 4,096 seqs first (DEVICE_BLOCK_SHIFT). Keyed
  // by (device_id, seq), every row went to its device's own leaf page: a commit of a busy fleet's
  // rows rewrote one 4 KB page per device into the WAL, 12 us of a row's 13 us in SQLite and a
  // third of the hub's shadow throughput (issue 11). By block first, a commit's entries land in
  // the current block's few pages. A device's rows are then found block by block (query()).
  `DROP INDEX notifications_device;
   CREATE INDEX notifications_device_block ON notifications(seq >> 12, device_id);`,
];

/**
 * log2 of the seqs per block of the device index (migration 2 says `seq >> 12`; the query must use
 * the same expression for SQLite to use the index). 4,096 rows: a block's index pages stay few
 * enough to be hot, and the default retention (100,000 entries) is 25 blocks to look into.
 */
const DEVICE_BLOCK_SHIFT = 12;
/**
 * The block of a seq, as SQLite computes `seq >> 12` on 64-bit integers. Not JavaScript's `>>`,
 * which works on 32 bits: a busy hub's seq passes 2^31 (2.1 billion rows, about 2.5 days at
 * 10,000 rows/s), and every block number would then come out wrong.
 */
const blockOf = (seq: number): number => Math.floor(seq / 2 ** DEVICE_BLOCK_SHIFT);

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

const ROW_COLUMNS = 'seq, ts, name, device_id, data';

/** The WHERE term of a name filter; a trailing '*' selects a family of names, e.g. 'rpc.out.*'. */
function nameFilter(name: string | undefined): { sql: string; params: string[] } | null {
  if (name === undefined) return null;
  if (!name.endsWith('*')) return { sql: 'name = ?', params: [name] };
  const prefix = name.slice(0, -1).replace(/[\\%_]/g, (c) => '\\' + c);
  return { sql: "name LIKE ? ESCAPE '\\'", params: [prefix + '%'] };
}

/**
 * Rows one INSERT statement carries: a statement per row cost more in binding and stepping than
 * the row's B-tree inserts (issue 11 profile).
 */
const ROWS_PER_INSERT = 64;

export function openLogDb(path: string): Db {
  const db = openDatabase(path, LOG_MIGRATIONS);
  // A multi-row INSERT may fail half way, so SQLite keeps a statement journal of the pages it
  // changes; past 64 KiB that journal spills to a new unlinked file in /var/tmp, once per commit.
  // In memory it costs a fifth less CPU per row and less than half the pwrites (bench/RESULTS.md,
  // issue 11). The log's own reads sort nothing large: every filter has its index.
  db.pragma('temp_store = MEMORY');
  return db;
}

/** The log's statements on one connection. Writes are the caller's to put in a transaction. */
export class LogTable {
  private readonly insertStmt;
  private readonly insertManyStmt;
  private readonly countStmt;
  private readonly maxSeqStmt;
  private readonly newestStmt;
  private readonly spanStmt;
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
    this.spanStmt = db.prepare<[], { lo: number | null; hi: number | null }>(
      'SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM notifications',
    );
    this.pruneAgeStmt = db.prepare<[number]>('DELETE FROM notifications WHERE ts < ?');
    this.pruneCountStmt = db.prepare<[number]>('DELETE FROM notifications WHERE seq <= ?');
  }

  /** Inserts in order: whole chunks of ROWS_PER_INSERT by one statement, the rest one by one. */
  insertRows(rows: Readonly<LogRows>): void {
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
    const rows = q.device === undefined ? this.queryAll(q) : this.queryDevice(q, q.device);
    return rows.reverse().map((r) => ({
      seq: r.seq,
      timestamp: r.ts,
      name: r.name,
      id: r.device_id,
      data: JSON.parse(r.data) as Json,
    }));
  }

  private queryAll(q: LogQuery): Row[] {
    const name = nameFilter(q.name);
    const sql =
      `SELECT ${ROW_COLUMNS} FROM notifications` +
      (name === null ? '' : ` WHERE ${name.sql}`) +
      ' ORDER BY seq DESC LIMIT ? OFFSET ?';
    return this.db
      .prepare<(string | number)[], Row>(sql)
      .all(...(name?.params ?? []), q.limit, q.start);
  }

  /**
   * A device's entries, newest first: block by block down from the newest row's, each block one
   * search of the (block, device) index (migration 2). A block's entries are counted, not read,
   * while `start` skips past them.
   */
  private queryDevice(q: LogQuery, device: string): Row[] {
    const span = this.spanStmt.get();
    if (span === undefined || span.hi === null || span.lo === null) return [];
    const name = nameFilter(q.name);
    const where = `(seq >> ${DEVICE_BLOCK_SHIFT}) = ? AND device_id = ?${name === null ? '' : ` AND ${name.sql}`}`;
    const rowsStmt = this.db.prepare<(string | number)[], Row>(
      `SELECT ${ROW_COLUMNS} FROM notifications WHERE ${where} ORDER BY seq DESC LIMIT ? OFFSET ?`,
    );
    const countStmt = this.db.prepare<(string | number)[], { n: number }>(
      `SELECT COUNT(*) AS n FROM notifications WHERE ${where}`,
    );
    const out: Row[] = [];
    let skip = q.start;
    const first = blockOf(span.lo);
    for (let b = blockOf(span.hi); b >= first && out.length < q.limit; b--) {
      const params = [b, device, ...(name?.params ?? [])];
      if (skip > 0) {
        const n = countStmt.get(...params)?.n ?? 0;
        if (n <= skip) {
          skip -= n;
          continue;
        }
      }
      out.push(...rowsStmt.all(...params, q.limit - out.length, skip));
      skip = 0;
    }
    return out;
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
