/**
 * The one executor of user SQL on the account database (PROTOCOL.md 4, 5): `/sql/exec`, the
 * snapshot behind `/sql/db`, `/devices/:id/data/:name` and later the customer form of it.
 *
 * Statements run in a small pool of child processes (sql-worker.ts), each with its own connection
 * to the account file, never on the hub's event loop: a runaway query (an endless recursive CTE, a
 * cross join of millions) costs one process, which is killed at the deadline (`sql.timeoutMs`)
 * and replaced by a fresh one for the next statement. Results are capped in rows and bytes
 * (`truncated`). Jobs beyond the pool wait in a FIFO of `sql.maxQueued`; more get `sql_busy`.
 *
 * Every statement passes sql-guard.ts first (ATTACH, VACUUM INTO, pragmas, ...: `sql_refused`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { HubError } from '../../shared/errors';
import type { SqlLimits } from '../config';
import { checkSql } from './sql-guard';
import {
  isFromSqlWorker,
  type FromSqlWorker,
  type SqlResult,
  type ToSqlWorker,
} from './sql-protocol';
import { defaultSqlWorkerFile, sqlWorkerLaunch } from './sql-worker-file';

export type SqlParam = string | number | boolean | null;

/** The SQL processes' niceness (os.setPriority; Windows: below normal). */
export const SQL_PROCESS_NICE = 10;

/** Where snapshots for `/sql/db` are written before they are streamed (inside the data dir). */
export const SNAPSHOT_DIR = 'sql-tmp';
const SNAPSHOT_PREFIX = 'snapshot-';

type Job = {
  msg: ToSqlWorker;
  timeoutMs: number;
  resolve: (m: FromSqlWorker) => void;
  reject: (e: unknown) => void;
};

interface Slot {
  child: ChildProcess;
  ready: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

export interface SqlExecutorOptions {
  /** The account database file. */
  file: string;
  /** The data dir: snapshots are written under `<dataDir>/sql-tmp`. */
  dataDir: string;
  limits: SqlLimits;
  /** The worker entry; default: the built sql-worker.js or the .ts source. */
  workerFile?: string;
}

export class SqlExecutor {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly launch: { file: string; execArgv: string[] };
  /** Processes started (the first ones and each replacement of a killed one). */
  spawned = 0;

  constructor(private readonly opts: SqlExecutorOptions) {
    this.launch = sqlWorkerLaunch(opts.workerFile ?? defaultSqlWorkerFile());
    // Snapshots left by a hub that died while streaming one.
    const dir = join(opts.dataDir, SNAPSHOT_DIR);
    try {
      for (const f of readdirSync(dir)) {
        if (f.startsWith(SNAPSHOT_PREFIX)) rmSync(join(dir, f), { force: true });
      }
    } catch {
      // no directory yet
    }
  }

  /**
   * Runs one user statement with bound `?` parameters: `sql_refused` (403) when the guard says no,
   * `sql_error` (400) for SQLite's own errors, `sql_timeout` (504) past the deadline.
   */
  async exec(sql: string, params: readonly SqlParam[] = []): Promise<SqlResult> {
    checkSql(sql);
    const bound = params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
    const { limits } = this.opts;
    const reply = await this.run(
      {
        type: 'exec',
        id: 0,
        sql,
        params: bound,
        maxRows: limits.maxRows,
        maxBytes: limits.maxBytes,
      },
      limits.timeoutMs,
    );
    if (reply.type !== 'result') throw new HubError('internal', 'the SQL process answered oddly');
    return reply.result;
  }

  /**
   * A consistent copy of the account database in a fresh file under the data dir; the caller
   * streams it and removes it (`removeSnapshot`).
   */
  async snapshot(): Promise<string> {
    const dir = join(this.opts.dataDir, SNAPSHOT_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${SNAPSHOT_PREFIX}${randomBytes(8).toString('hex')}.sqlite`);
    try {
      await this.run({ type: 'snapshot', id: 0, path }, this.opts.limits.snapshotTimeoutMs);
    } catch (err) {
      rmSync(path, { force: true });
      throw err;
    }
    return path;
  }

  /** The pids of the SQL processes now running a statement. */
  pids(): number[] {
    return this.slots.flatMap((s) =>
      s.job !== null && s.child.pid !== undefined ? [s.child.pid] : [],
    );
  }

  /** How many statements run or wait now. */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.job !== null).length;
  }

  close(): void {
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      job.reject(new HubError('internal', 'the hub is stopping'));
    }
    for (const s of this.slots.splice(0)) {
      if (s.timer) clearTimeout(s.timer);
      s.job?.reject(new HubError('internal', 'the hub is stopping'));
      s.child.kill('SIGKILL');
    }
  }

  private run(msg: ToSqlWorker, timeoutMs: number): Promise<FromSqlWorker> {
    if (this.closed) return Promise.reject(new HubError('internal', 'the hub is stopping'));
    if (this.queue.length >= this.opts.limits.maxQueued) {
      return Promise.reject(
        new HubError('sql_busy', `${this.queue.length} SQL statements are already waiting`),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ msg: { ...msg, id: this.nextId++ }, timeoutMs, resolve, reject });
      this.pump();
    });
  }

  /** Hands waiting jobs to idle, ready processes; starts processes up to the pool size. */
  private pump(): void {
    while (this.queue.length > 0) {
      const idle = this.slots.find((s) => s.ready && s.job === null);
      if (idle) {
        this.assign(idle, this.queue.shift() as Job);
        continue;
      }
      const starting = this.slots.filter((s) => !s.ready).length;
      if (this.slots.length < this.opts.limits.workers && starting < this.queue.length) {
        this.spawn();
        continue;
      }
      return;
    }
  }

  private assign(slot: Slot, job: Job): void {
    slot.job = job;
    // The deadline counts from the moment a process has the statement, not the wait before.
    slot.timer = setTimeout(() => {
      slot.timer = null;
      const seconds = Math.round(job.timeoutMs / 100) / 10;
      this.retire(
        slot,
        new HubError('sql_timeout', `the statement ran longer than ${seconds} s and was stopped`),
      );
    }, job.timeoutMs);
    slot.child.send(job.msg, (err) => {
      if (err) this.retire(slot, new HubError('internal', `SQL process: ${err.message}`));
    });
  }

  private spawn(): void {
    const child = fork(this.launch.file, [this.opts.file], {
      execArgv: this.launch.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.spawned++;
    // Below the hub's priority: on a small machine an aggregate over millions of rows takes a core,
    // and devices and REST calls must win it (bench/RESULTS.md "SQL under ingest").
    try {
      if (child.pid !== undefined) setPriority(child.pid, SQL_PROCESS_NICE);
    } catch {
      // not permitted here: runs at normal priority
    }
    const slot: Slot = { child, ready: false, job: null, timer: null };
    this.slots.push(slot);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (t: string) => {
      stderr = (stderr + t).slice(-1000);
    });
    child.on('message', (m: unknown) => {
      if (!isFromSqlWorker(m)) return;
      if (m.type === 'ready') {
        slot.ready = true;
        this.pump();
        return;
      }
      const job = slot.job;
      if (job === null || m.id !== job.msg.id) return;
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
      slot.job = null;
      if (m.type === 'error') job.reject(sqlError(m.message, m.code));
      else job.resolve(m);
      this.pump();
    });
    const gone = (why: string): void => {
      const last = stderr.trim().split('\n').at(-1) ?? '';
      this.retire(
        slot,
        new HubError('internal', `the SQL process ${why}${last ? `: ${last}` : ''}`),
      );
    };
    child.on('exit', (code, signal) =>
      gone(signal ? `was killed (${signal})` : `exited (${code})`),
    );
    child.on('error', (err) => gone(`failed (${err.message})`));
  }

  /** Kills a slot's process (a fresh one starts when needed) and fails its job with `err`. */
  private retire(slot: Slot, err: HubError): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.child.kill('SIGKILL');
    const job = slot.job;
    slot.job = null;
    job?.reject(err);
    // A process that died before it was ready cannot start at all (no file, a broken build):
    // the waiting jobs fail with it instead of spawning one process after another.
    if (!slot.ready) for (const waiting of this.queue.splice(0)) waiting.reject(err);
    if (!this.closed) this.pump();
  }
}

/** SQLite's failures of a user statement are the client's (`sql_error`); disk failures are not. */
function sqlError(message: string, code: string | undefined): HubError {
  if (code === 'SQLITE_FULL') return new HubError('storage_full', `the disk is full: ${message}`);
  if (code?.startsWith('SQLITE_IOERR')) return new HubError('storage_failed', message);
  if (code === 'SQLITE_BUSY') {
    return new HubError('sql_error', `the database stayed locked: ${message}`);
  }
  return new HubError('sql_error', message);
}
