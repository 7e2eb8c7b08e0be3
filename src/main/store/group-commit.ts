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
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';
import type { Db } from './database';

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
}

export class GroupCommitter {
  private queue: Job[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private closed = false;
  readonly stats: GroupCommitStats = { batches: 0, writes: 0 };
  /**
   * Both wrappers are made once: better-sqlite3 builds four wrapper functions per `transaction()`
   * call, which cost more than the SAVEPOINT itself when made per write (bench/RESULTS.md).
   * Called inside the batch's transaction, `runAlone` runs its job in a SAVEPOINT.
   */
  private readonly runAlone: (fn: () => unknown) => unknown;
  private readonly runBatch: (jobs: Job[], outcomes: Outcome[]) => void;
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
    /** A batch this large commits at once instead of waiting out the window. */
    private readonly maxBatch = 5000,
  ) {
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
          outcomes.push({ ok: false, value: err });
        }
      }
    });
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

  private enqueue<T>(fn: () => T, single: boolean): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
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
      for (const job of jobs) job.reject(err);
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
    fdatasync(fd, (err) => {
      const done = this.unflushed.splice(0, this.covered ?? 0);
      this.covered = null;
      // Committed but maybe not on disk when the flush failed: nobody may be told it is durable.
      for (const b of done) settle(b, err);
      if (this.unflushed.length > 0) this.flushWal(fd);
      else this.releaseWal();
    });
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
