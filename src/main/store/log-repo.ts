/**
 * Stored notifications for `POST /logs` (PROTOCOL.md 7), with retention by count and by age.
 *
 * The log is a log, not acknowledged state, and it is written on the path of every REST RPC and
 * shadow update (`rpc.in.*`, `rpc.out.*`, `updated`): inserting its rows was a quarter of the
 * hub's time under a storm of shadow updates (issue 11). So:
 * - Rows are buffered in memory and handed over as one batch when `LOG_FLUSH_MS` passed since the
 *   first buffered row or `LOG_BATCH_ROWS` rows are waiting.
 * - The log lives in its own file, `log.db` (log-sql.ts). While it is busy (a batch of at least
 *   `LOG_WORKER_ROWS` rows) a worker thread writes it (log-thread.ts), off the hub's loop; it ends
 *   after `LOG_WORKER_IDLE_MS` without such a batch, because a thread holds memory of its own.
 *   Otherwise batches are written on the loop by the log's own group committer (NORMAL plus an
 *   `fdatasync` off the loop, like the registry). One writer at a time: the thread starts after
 *   the loop's writes are committed, and the loop writes again only once the thread has ended, so
 *   `seq` stays in append order.
 * - A thread that cannot start (a build without its entry) leaves the loop writing, for good.
 *
 * The bound (README "Durability"): a crash of the hub loses from the log at most the rows of the
 * last `LOG_FLUSH_MS` (at most `LOG_BATCH_ROWS` rows) plus the batch being written; a power cut
 * can also lose the batch whose flush was in flight, as for any write not yet acknowledged.
 * Acknowledged state (shadow writes, data rows, keys, devices) is in other files and untouched.
 * Readers of the log (`query`, `count`, retention) hand the buffer over first and are answered
 * after it, so the hub always reads its own rows.
 */
import type { Db } from './database';
import type { GroupCommitter } from './group-commit';
import type { LogEntry, Notification } from '../../shared/types';
import { LOG_COLUMNS, LogTable, type LogPrune, type LogQuery, type LogRows } from './log-sql';
import type { LogAnswer } from './log-protocol';
import { LogThread, LogThreadNotStarted } from './log-thread';

export type { LogQuery } from './log-sql';

/** Rows buffered at most: this many are handed over at once. */
export const LOG_BATCH_ROWS = 2000;
/** Longest a row waits in memory before it is handed over. */
export const LOG_FLUSH_MS = 100;
/** A hand-over of at least this many rows (2,000 rows/s at LOG_FLUSH_MS) starts the thread. */
export const LOG_WORKER_ROWS = 200;
/** The thread ends after this long without a hand-over of LOG_WORKER_ROWS rows. */
export const LOG_WORKER_IDLE_MS = 30_000;

export interface LogRepoOptions {
  flushMs?: number;
  batchRows?: number;
  /** Infinity: never start the thread. */
  workerRows?: number;
  workerIdleMs?: number;
  /** The worker entry (tests: one that fails to start). */
  workerEntry?: string;
}

type Settle = (err: unknown) => void;
type Read =
  | { t: 'query'; q: LogQuery }
  | { t: 'count' }
  | { t: 'prune'; p: LogPrune }
  | { t: 'snapshot'; dest: string };

export class LogRepo {
  /** The buffered rows' columns, one row after the other (log-sql.ts `LogRows`). */
  private rows: LogRows = [];
  /** Settles when the buffered rows are committed (or failed): what `append` returns. */
  private done: Promise<void> | null = null;
  private settle: Settle | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly flushMs: number;
  private readonly batchRows: number;
  private readonly workerRows: number;
  private readonly workerIdleMs: number;
  private readonly table: LogTable;
  private thread: LogThread | null = null;
  /** Set while a thread is ending: writes and reads wait for it. */
  private ending: Promise<void> | null = null;
  /** The thread could not start once: the loop writes from now on. */
  private threadBroken = false;
  private lastBusyMs = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  /** The newest appended row's time, once a row was appended. */
  private lastMs: number | null = null;
  /**
   * Snapshots in progress on the loop's connection: no thread starts meanwhile, since another
   * connection's writes would restart the copy (the thread's own writes do not, log-worker.ts).
   */
  private snapshots = 0;

  constructor(
    private readonly db: Db,
    private readonly committer: GroupCommitter,
    private readonly file: string,
    private readonly opts: LogRepoOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? LOG_FLUSH_MS;
    this.batchRows = opts.batchRows ?? LOG_BATCH_ROWS;
    this.workerRows = opts.workerRows ?? LOG_WORKER_ROWS;
    this.workerIdleMs = opts.workerIdleMs ?? LOG_WORKER_IDLE_MS;
    this.table = new LogTable(db);
  }

  /** Whether the worker thread writes the log now (tests). */
  get threaded(): boolean {
    return this.thread !== null;
  }

  /**
   * Buffers one row. `dataJson`: the data's JSON text when the caller has it already
   * (notification-bus.ts). The promise (the same one for every row of a batch) settles once the
   * row's batch is committed and flushed; nobody needs to wait for it.
   */
  append(n: Notification, nowMs: number, dataJson?: string): Promise<void> {
    this.rows.push(nowMs, n.name, n.id, dataJson ?? JSON.stringify(n.data ?? null));
    this.lastMs = nowMs;
    if (this.done === null) {
      this.done = new Promise<void>((resolve, reject) => {
        this.settle = (err) => (err === null ? resolve() : reject(err));
      });
    }
    const done = this.done;
    if (this.rows.length >= this.batchRows * LOG_COLUMNS) this.handOver();
    else this.timer ??= setTimeout(() => this.handOver(), this.flushMs).unref();
    return done;
  }

  /** Hands the buffered rows to their writer (queued, not yet committed). */
  private handOver(): void {
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
    if (rows.length >= this.workerRows * LOG_COLUMNS) {
      this.lastBusyMs = Date.now();
      if (this.thread === null && this.ending === null && this.snapshots === 0) this.startThread();
    }
    if (this.ending !== null) void this.ending.then(() => this.write(rows, settle));
    else this.write(rows, settle);
  }

  private write(rows: LogRows, settle: Settle): void {
    const thread = this.thread;
    if (thread === null) {
      this.committer
        .write(() => this.table.insertRows(rows))
        .then(
          () => settle(null),
          (err: unknown) => settle(err),
        );
      return;
    }
    thread.request({ t: 'rows', rows }).then(
      () => settle(null),
      (err: unknown) => {
        // Nothing of it was written: the loop writes it (the thread is gone by now).
        if (err instanceof LogThreadNotStarted) this.write(rows, settle);
        else settle(err);
      },
    );
  }

  private startThread(): void {
    if (this.threadBroken) return;
    // One writer at a time: what the loop queued commits before the thread's first batch.
    this.committer.flush();
    let thread: LogThread;
    try {
      thread = new LogThread(this.file, this.opts.workerEntry, (err) => {
        if (this.thread !== thread) return;
        this.thread = null;
        this.stopIdleTimer();
        if (err !== null) this.threadBroken = true;
      });
    } catch {
      this.threadBroken = true;
      return;
    }
    this.thread = thread;
    this.idleTimer = setInterval(
      () => {
        if (Date.now() - this.lastBusyMs >= this.workerIdleMs) void this.stopThread();
      },
      Math.max(10, this.workerIdleMs / 2),
    );
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
  }

  /** Ends the thread after it has written everything handed to it; the loop writes after that. */
  private stopThread(): Promise<void> {
    const thread = this.thread;
    if (thread === null) return this.ending ?? Promise.resolve();
    this.thread = null;
    this.stopIdleTimer();
    const ending = thread.close().then(() => {
      if (this.ending === ending) this.ending = null;
    });
    this.ending = ending;
    return ending;
  }

  /** Hands the buffer over, then answers `r` after it: on the thread, or on the loop. */
  private async read(r: Read): Promise<LogAnswer> {
    this.handOver();
    while (this.ending !== null) await this.ending;
    const thread = this.thread;
    if (thread !== null) {
      try {
        return await thread.request(r);
      } catch (err) {
        if (!(err instanceof LogThreadNotStarted)) throw err;
      }
    }
    // Commits what the loop queued (the rows just handed over among them).
    this.committer.flush();
    switch (r.t) {
      case 'query':
        return this.table.query(r.q);
      case 'count':
        return this.table.count();
      case 'prune':
        return this.table.prune(r.p);
      case 'snapshot':
        this.snapshots++;
        try {
          await this.db.backup(r.dest);
        } finally {
          this.snapshots--;
        }
        return null;
    }
  }

  /** Writes a consistent copy of `log.db`, with every row appended before, to `dest` (backups). */
  async snapshot(dest: string): Promise<void> {
    await this.read({ t: 'snapshot', dest });
  }

  /** Newest last: the `limit` entries just before the `start` newest ones that match. */
  async query(q: LogQuery): Promise<LogEntry[]> {
    return (await this.read({ t: 'query', q })) as LogEntry[];
  }

  async count(): Promise<number> {
    return (await this.read({ t: 'count' })) as number;
  }

  /** Applies retention; resolves with how many entries were removed. */
  async prune(nowMs: number, maxAgeMs: number, maxEntries: number): Promise<number> {
    return (await this.read({ t: 'prune', p: { nowMs, maxAgeMs, maxEntries } })) as number;
  }

  /** The newest entry's time (ms), null for an empty log; from memory once a row was appended. */
  newestMs(): number | null {
    return this.lastMs ?? this.table.newestMs();
  }

  /** Writes the buffer and ends the thread; resolves once the thread has ended. */
  async close(): Promise<void> {
    this.handOver();
    while (this.ending !== null) await this.ending;
    await this.stopThread();
  }

  /**
   * For a synchronous close (store.ts): hands the buffer over and asks the thread to end after
   * it, without waiting; the loop's rows go into the log committer's last batch.
   */
  closeNow(): void {
    this.handOver();
    void this.stopThread();
  }
}
