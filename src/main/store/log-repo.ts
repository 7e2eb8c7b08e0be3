/**
 * Stored notifications for `POST /logs` (PROTOCOL.md 7), with retention by count and by age.
 *
 * The log is a log, not acknowledged state, and it is written on the path of every REST RPC
 * (`rpc.in.*`, `rpc.out.*`): queued per commit window it cost a commit and a WAL flush every
 * 2 ms, about 15% of the hub's CPU at 10k devices (issue 11). So rows are buffered in memory and
 * handed to the group commit as ONE write (one closure, one promise, the prepared insert reused)
 * when `LOG_FLUSH_MS` passed since the first buffered row or `LOG_BATCH_ROWS` rows are waiting.
 * That write rides in whatever batch commits next (shadow writes, data rows: no fsync of its
 * own); when nothing else is written, the log causes at most one commit and one WAL flush per
 * `LOG_FLUSH_MS`. Acknowledged state (shadow writes, data rows, keys, devices) is untouched: it
 * still resolves only after its own flush.
 *
 * The bound (README "Durability"): a crash of the hub loses from the log at most the rows of the
 * last `LOG_FLUSH_MS` (at most `LOG_BATCH_ROWS` rows); a power cut can also lose the batch whose
 * WAL flush was in flight, as for any write not yet acknowledged. Readers of the log (`query`,
 * `count`, retention) commit the buffer first, so the hub always reads its own rows.
 */
import type { Db } from './database';
import type { GroupCommitter } from './group-commit';
import type { Json, LogEntry, Notification } from '../../shared/types';

interface Row {
  seq: number;
  ts: number;
  name: string;
  device_id: string;
  data: string;
}

export interface LogQuery {
  /** Skip this many of the newest matching entries (0 = up to the newest). */
  start: number;
  limit: number;
  device?: string;
  name?: string;
}

/** Rows buffered at most: this many are handed to the committer at once. */
export const LOG_BATCH_ROWS = 2000;
/** Longest a row waits in memory before it is handed to the committer. */
export const LOG_FLUSH_MS = 100;

type LogRow = [number, string, string, string];

/**
 * Rows one INSERT statement carries: a statement per row cost more in binding and stepping than
 * the row's B-tree inserts (issue 11 profile).
 */
const ROWS_PER_INSERT = 64;

export interface LogRepoOptions {
  flushMs?: number;
  batchRows?: number;
}

export class LogRepo {
  private rows: LogRow[] = [];
  /** Settles when the buffered rows are committed (or failed): what `append` returns. */
  private done: Promise<void> | null = null;
  private settle: ((err: unknown) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly flushMs: number;
  private readonly batchRows: number;
  private readonly insertStmt;
  private readonly insertManyStmt;
  private readonly countStmt;
  private readonly maxSeqStmt;
  private readonly pruneAgeStmt;
  private readonly pruneCountStmt;

  constructor(
    private readonly db: Db,
    private readonly committer: GroupCommitter,
    opts: LogRepoOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? LOG_FLUSH_MS;
    this.batchRows = opts.batchRows ?? LOG_BATCH_ROWS;
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
    this.pruneAgeStmt = db.prepare<[number]>('DELETE FROM notifications WHERE ts < ?');
    this.pruneCountStmt = db.prepare<[number]>('DELETE FROM notifications WHERE seq <= ?');
  }

  /**
   * Buffers one row. `dataJson`: the data's JSON text when the caller has it already
   * (notification-bus.ts). The promise (the same one for every row of a batch) settles once the
   * row's batch is committed and flushed; nobody needs to wait for it.
   */
  append(n: Notification, nowMs: number, dataJson?: string): Promise<void> {
    this.rows.push([nowMs, n.name, n.id, dataJson ?? JSON.stringify(n.data ?? null)]);
    if (this.done === null) {
      this.done = new Promise<void>((resolve, reject) => {
        this.settle = (err) => (err === null ? resolve() : reject(err));
      });
    }
    const done = this.done;
    if (this.rows.length >= this.batchRows) this.handOver();
    else this.timer ??= setTimeout(() => this.handOver(), this.flushMs).unref();
    return done;
  }

  /** Hands the buffered rows to the committer as one write (queued, not yet committed). */
  handOver(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const rows = this.rows;
    const settle = this.settle;
    if (rows.length === 0 || settle === null) return;
    this.rows = [];
    this.done = null;
    this.settle = null;
    this.committer
      .write(() => this.insertRows(rows))
      .then(
        () => settle(null),
        (err: unknown) => settle(err),
      );
  }

  /** Inserts in order: whole chunks of ROWS_PER_INSERT by one statement, the rest one by one. */
  private insertRows(rows: LogRow[]): void {
    let i = 0;
    for (; i + ROWS_PER_INSERT <= rows.length; i += ROWS_PER_INSERT) {
      this.insertManyStmt.run(...rows.slice(i, i + ROWS_PER_INSERT).flat());
    }
    for (; i < rows.length; i++) this.insertStmt.run(...(rows[i] as LogRow));
  }

  /** Commits the buffered rows now (not waiting for their flush), so a read sees them. */
  private commitBuffered(): void {
    if (this.rows.length === 0) return;
    this.handOver();
    this.committer.flush();
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
    this.commitBuffered();
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
    this.commitBuffered();
    return this.countStmt.get()?.n ?? 0;
  }

  /** Applies retention; returns how many entries were removed. */
  prune(nowMs: number, maxAgeMs: number, maxEntries: number): number {
    this.commitBuffered();
    let removed = this.pruneAgeStmt.run(nowMs - maxAgeMs).changes;
    const max = this.maxSeqStmt.get()?.m ?? 0;
    if (max > maxEntries) removed += this.pruneCountStmt.run(max - maxEntries).changes;
    return removed;
  }
}
