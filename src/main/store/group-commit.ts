/**
 * Group commit: writes queued within a short window share one transaction, so thousands of
 * durable changes per second cost one fsync per batch instead of one each. A caller's promise
 * resolves only after the COMMIT that holds its write is on disk, which is what lets the hub
 * acknowledge a change (REST reply, device ack) only once it is durable (issue 2, "Store").
 *
 * Each write runs in its own SAVEPOINT (better-sqlite3 nests transactions that way), so one failing
 * write rolls back alone and rejects alone; the rest of the batch still commits. A write that is
 * one statement (`writeStatement`) needs no SAVEPOINT: SQLite undoes a failed statement alone.
 *
 * The disk flush runs off the event loop. In WAL mode, `synchronous = FULL` means one thing more
 * than NORMAL: the WAL file is flushed at every commit (https://sqlite.org/pragma.html#pragma_synchronous),
 * and better-sqlite3 does that flush on the main thread, where it stalled the whole hub for
 * 5-10 ms per batch, a third to half of its time under load (bench/RESULTS.md). So a batch commits
 * with NORMAL (its WAL frames are written, not yet flushed), the WAL file is flushed with an
 * asynchronous `fdatasync` on the libuv thread pool, and only then do the batch's callers resolve,
 * in commit order. One flush runs at a time and covers every batch committed before it started.
 * Durability of what is acknowledged is the same as FULL; only the waiting moved.
 * Writes that do not go through the committer keep FULL. Where the WAL file cannot be used this
 * way (an in-memory database, a WAL file that went away), batches commit with FULL as before.
 *
 * Order: `writeNow` runs a write synchronously, after committing everything queued before it, so a
 * device deleted and created again cannot receive a shadow write queued for the old one (issue 7
 * item 3). Failures of the disk reject with catalog errors (storage-errors.ts); a failed flush
 * stops the committer for good: nothing is acknowledged again until a restart (issue 7 item 5).
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';
import { HubError } from '../../shared/errors';
import type { Db } from './database';
import { isFlushFailure, storageError } from './storage-errors';

interface Job {
  fn: () => unknown;
  /** A single statement: atomic by itself, so it runs without a SAVEPOINT of its own. */
  single: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** The part of a prepared better-sqlite3 statement a write needs. */
export interface RunnableStatement<P extends unknown[]> {
  run(...params: P): unknown;
}

interface Outcome {
  ok: boolean;
  value: unknown;
}

interface Batch {
  jobs: Job[];
  outcomes: Outcome[];
}

/** Resolves each job of a committed batch with its outcome, or rejects them all with `err`. */
function settle(b: Batch, err: Error | null): void {
  b.jobs.forEach((job, i) => {
    const o = b.outcomes[i];
    if (err) job.reject(err);
    else if (o?.ok) job.resolve(o.value);
    else job.reject(o?.value);
  });
}

export interface GroupCommitStats {
  batches: number;
  writes: number;
  /** Batches put back because another connection held the write lock (`busyRetryMs`). */
  busyRetries?: number;
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** `fs.fdatasync`'s shape: the flush of the WAL file, injectable so tests can count or fail it. */
export type FlushFn = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;

/** What the committer last knew about the disk (`GET /api/v2/hub` `store`). */
export interface StorageHealth {
  /** False once a flush failed: every write is refused until the hub restarts. */
  writable: boolean;
  /** The last storage failure (full disk, I/O error), with its time in Unix ms; null if none. */
  last_error: { code: number; message: string; at: number } | null;
}

export interface GroupCommitOptions {
  /** A batch this large commits at once instead of waiting out the window. */
  maxBatch?: number;
  /** Flushes the WAL file; `fs.fdatasync` unless a test injects its own. */
  fdatasync?: FlushFn;
  /** Told of every storage failure; `fatal` when it stopped the committer. */
  onStorageError?: (err: HubError, fatal: boolean) => void;
  /**
   * For a database another connection also writes (the account database, written by the SQL
   * processes of data/sql-executor.ts): batches start with BEGIN IMMEDIATE, and when the other
   * writer holds the lock (SQLITE_BUSY, nothing of the batch ran) the batch goes back to the head
   * of the queue and is tried again after this many ms. The connection's busy_timeout should then
   * be 0: SQLite's busy handler sleeps on the event loop, this retry does not.
   */
  busyRetryMs?: number;
}

export class GroupCommitter {
  private queue: Job[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private closed = false;
  /** Set by a failed flush: what every write is rejected with from then on. */
  private failure: HubError | null = null;
  private lastError: StorageHealth['last_error'] = null;
  private readonly maxBatch: number;
  private readonly flushFile: FlushFn;
  private readonly onStorageError: (err: HubError, fatal: boolean) => void;
  readonly stats: GroupCommitStats = { batches: 0, writes: 0 };
  /**
   * Both wrappers are made once: better-sqlite3 builds four wrapper functions per `transaction()`
   * call, which cost more than the SAVEPOINT itself when made per write (bench/RESULTS.md).
   * Called inside the batch's transaction, `runAlone` runs its job in a SAVEPOINT.
   */
  private readonly runAlone: (fn: () => unknown) => unknown;
  private readonly runBatch: (jobs: Job[], outcomes: Outcome[]) => void;
  private readonly busyRetryMs: number | null;
  private readonly syncNormal: { run(): unknown };
  private readonly syncFull: { run(): unknown };
  /** The WAL file flushed after each batch; null once batches commit with FULL in place. */
  private wal: { path: string; fd: number; ino: bigint; dev: bigint } | null;
  /** Batches committed with NORMAL whose WAL frames are not yet known to be on disk, in order. */
  private readonly unflushed: Batch[] = [];
  /** How many of `unflushed` the running WAL flush covers; null when no flush is running. */
  private covered: number | null = null;
  /** WAL fds given up while a flush still used them; closed when the last one is done. */
  private readonly closeWhenIdle: number[] = [];

  constructor(
    private readonly db: Db,
    private readonly windowMs: number,
    opts: GroupCommitOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 5000;
    // Looked up at each call, not bound now: tests wrap node's own fdatasync after import.
    this.flushFile = opts.fdatasync ?? ((fd, cb) => fdatasync(fd, cb));
    this.onStorageError = opts.onStorageError ?? (() => undefined);
    this.runAlone = db.transaction((fn: () => unknown) => fn());
    this.runBatch = db.transaction((jobs: Job[], outcomes: Outcome[]) => {
      for (const job of jobs) {
        try {
          outcomes.push({ ok: true, value: job.single ? job.fn() : this.runAlone(job.fn) });
        } catch (err) {
          // Some failures end the whole transaction, not just the job (RAISE(ROLLBACK), an
          // ON CONFLICT ROLLBACK, SQLITE_FULL, IOERR: https://sqlite.org/lang_transaction.html):
          // the jobs before it are undone, and the jobs after it would each commit on their own
          // while their callers are told the batch failed. Stop: the whole batch rejects.
          if (!this.db.inTransaction) throw err;
          outcomes.push({ ok: false, value: this.noted(err) });
        }
      }
    });
    this.busyRetryMs = opts.busyRetryMs ?? null;
    if (this.busyRetryMs !== null) {
      const batch = this.runBatch as unknown as { immediate: GroupCommitter['runBatch'] };
      this.runBatch = batch.immediate;
    }
    this.syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
    this.syncFull = db.prepare('PRAGMA synchronous = FULL');
    this.wal = openWal(db);
  }

  /** Queues `fn`, which runs in its own SAVEPOINT: if it throws, its changes are undone. */
  write<T>(fn: () => T): Promise<T> {
    return this.enqueue(fn, false);
  }

  /**
   * Queues one prepared statement. SQLite undoes a failed statement by itself and leaves the
   * transaction open, so this skips the SAVEPOINT and RELEASE that `write` spends on every job:
   * with three writes per shadow update they were a third of the commit's cost (bench/RESULTS.md).
   */
  writeStatement<P extends unknown[]>(stmt: RunnableStatement<P>, ...params: P): Promise<void> {
    return this.enqueue(() => void stmt.run(...params), true);
  }

  /**
   * Runs `fn` now, in a transaction of its own that commits with FULL (durable when this returns),
   * after committing everything queued before it: a write that must not be overtaken by queued
   * ones (a device insert or delete) or whose caller needs its outcome at once (a conflict).
   * Throws what `fn` throws, storage failures as catalog errors.
   */
  writeNow<T>(fn: () => T): T {
    if (this.closed) throw new Error('store is closed');
    if (this.failure) throw this.failure;
    this.flush();
    // flush() may have found the store failing (a FULL commit whose fsync failed).
    if (this.failure) throw this.failure;
    try {
      return this.runAlone(fn) as T;
    } catch (err) {
      const mapped = this.noted(err);
      if (isFlushFailure(err) && mapped instanceof HubError) this.fail(mapped);
      throw mapped;
    }
  }

  /** What is known about the disk now (for the hub's status). */
  health(): StorageHealth {
    return { writable: this.failure === null, last_error: this.lastError };
  }

  private enqueue<T>(fn: () => T, single: boolean): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, single, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.windowMs);
  }

  /** Commits everything queued now. Safe to call at any time. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const jobs = this.queue;
    if (jobs.length === 0) return;
    this.queue = [];
    const outcomes: Outcome[] = [];
    // Inside someone else's transaction the batch is a SAVEPOINT of it and commits with it.
    const nested = this.db.inTransaction;
    // The last batch before close commits with FULL in place.
    const fd = this.closing || nested ? null : this.walFd();
    try {
      if (fd !== null) this.syncNormal.run();
      try {
        this.runBatch(jobs, outcomes);
      } finally {
        if (fd !== null) this.syncFull.run();
      }
    } catch (err) {
      if (this.busyRetryMs !== null && !nested && !this.closing && isBusy(err)) {
        // Another connection holds the write lock; BEGIN IMMEDIATE failed before any job ran.
        this.queue = jobs.concat(this.queue);
        this.stats.busyRetries = (this.stats.busyRetries ?? 0) + 1;
        this.timer ??= setTimeout(() => this.flush(), this.busyRetryMs);
        return;
      }
      const mapped = this.noted(err);
      for (const job of jobs) job.reject(mapped);
      // A FULL commit whose own fsync failed: the same as a failed WAL flush.
      if (isFlushFailure(err) && mapped instanceof HubError) this.fail(mapped);
      return;
    }
    this.stats.batches++;
    this.stats.writes += jobs.length;
    const batch: Batch = { jobs, outcomes };
    if (fd !== null) {
      this.unflushed.push(batch);
      if (this.covered === null) this.flushWal(fd);
      return;
    }
    // Committed with FULL (closing, or the WAL file went away) while earlier batches still wait
    // for their flush: its callers wait behind them, to keep commit order, and the earlier ones
    // keep waiting for their own flush: a FULL commit that wrote nothing (every job failed)
    // syncs nothing. The running flush's chain settles it (one more fdatasync, of the old fd).
    if (!nested && this.unflushed.length > 0) {
      this.unflushed.push(batch);
      return;
    }
    settle(batch, null);
  }

  /**
   * Flushes the WAL for every batch committed so far; batches committed meanwhile wait for the
   * next flush, which starts when this one ends. One flush at a time: the disk sets the pace and
   * batches grow while it is busy, instead of flushes queueing up behind each other.
   */
  private flushWal(fd: number): void {
    this.covered = this.unflushed.length;
    this.flushFile(fd, (err) => {
      const done = this.unflushed.splice(0, this.covered ?? 0);
      this.covered = null;
      if (err) {
        this.fail(
          storageError(err) ??
            new HubError('storage_failed', `the WAL flush failed (${err.message})`, err),
        );
      }
      // Committed but maybe not on disk when a flush failed: nobody may be told it is durable,
      // neither these batches nor any later one. A flush that fails can drop the pages it could
      // not write, so a flush after it may succeed and still prove nothing. Conservative even
      // when this flush succeeded but another one of the same file failed meanwhile.
      for (const b of done) settle(b, this.failure);
      if (this.failure !== null) for (const b of this.unflushed.splice(0)) settle(b, this.failure);
      if (this.unflushed.length > 0) this.flushWal(fd);
      else this.releaseWal();
    });
  }

  /**
   * Stops the committer for good: everything queued, committed-but-unflushed or still to come
   * is rejected with `err`. Reads go on; a restart reads back what is really on disk.
   */
  private fail(err: HubError): void {
    if (this.failure) return;
    const fatal =
      err.kind === 'storage_failed'
        ? err
        : new HubError('storage_failed', `a flush failed: ${err.message}`, err);
    this.failure = fatal;
    this.note(fatal);
    this.onStorageError(fatal, true);
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (const job of this.queue.splice(0)) job.reject(fatal);
  }

  /** Maps a storage failure to its catalog error, remembers and reports it; others unchanged. */
  private noted(err: unknown): unknown {
    const mapped = storageError(err);
    if (mapped === null) return err;
    this.note(mapped);
    this.onStorageError(mapped, false);
    return mapped;
  }

  private note(err: HubError): void {
    this.lastError = { code: err.code, message: err.message, at: Date.now() };
  }

  /** The WAL's fd if the file at the WAL's path is still the one opened; else gives the WAL up. */
  private walFd(): number | null {
    const wal = this.wal;
    if (wal === null) return null;
    try {
      const st = statSync(wal.path, { bigint: true });
      if (st.ino === wal.ino && st.dev === wal.dev) return wal.fd;
    } catch {
      // gone: fall through
    }
    this.giveUpWal();
    return null;
  }

  private giveUpWal(): void {
    const wal = this.wal;
    this.wal = null;
    if (wal !== null) this.closeWhenIdle.push(wal.fd);
    this.releaseWal();
  }

  /** Closes given-up WAL fds once no flush still uses them. */
  private releaseWal(): void {
    if (this.covered !== null) return;
    for (const fd of this.closeWhenIdle.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }

  close(): void {
    this.closing = true;
    this.flush();
    this.closed = true;
    this.giveUpWal();
  }
}

/** Opens the database's WAL file for flushing, or null when it is not a file-backed WAL database. */
function openWal(db: Db): { path: string; fd: number; ino: bigint; dev: bigint } | null {
  if (db.memory) return null;
  const mode = db.pragma('journal_mode', { simple: true });
  if (typeof mode !== 'string' || mode.toLowerCase() !== 'wal') return null;
  const path = `${db.name}-wal`;
  let fd: number | null = null;
  try {
    // Read-write: Windows flushes only handles opened for writing. Never created here.
    fd = openSync(path, 'r+');
    const st = fstatSync(fd, { bigint: true });
    return { path, fd, ino: st.ino, dev: st.dev };
  } catch {
    if (fd !== null) closeSync(fd);
    return null;
  }
}
