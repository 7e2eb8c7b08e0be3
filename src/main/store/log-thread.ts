/**
 * The notification log's worker thread from the hub's side: starts log-worker.ts on `log.db`,
 * sends it requests and settles each with its answer (log-protocol.ts).
 *
 * A thread that ends before it came online (its entry missing from a build, a module that does
 * not load) rejects what was sent to it with `LogThreadNotStarted`: nothing of it was written, so
 * the caller may write it elsewhere. One that ends later rejects with a storage error: what it had
 * not answered may or may not be on disk.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HubError } from '../../shared/errors';
import { findWorkerEntry, workerLaunch } from '../worker-entry';
import type { FromLogWorker, LogAnswer, LogWorkerData, ToLogWorker } from './log-protocol';
import { storageError } from './storage-errors';

/** Where the worker entry lives (worker-entry.ts): out/main/log-worker.js, or the .ts source. */
export function defaultLogWorkerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return findWorkerEntry(here, 'log-worker', join(here, 'log-worker.ts'));
}

export class LogThreadNotStarted extends Error {}

type Request = ToLogWorker extends infer M
  ? M extends { id: number }
    ? Omit<M, 'id'>
    : never
  : never;

interface Pending {
  resolve: (v: LogAnswer) => void;
  reject: (err: unknown) => void;
}

/** The error a failed request rejects with: the catalog's storage error when it is one. */
function failure(m: { message: string; code?: string }): Error {
  const err = Object.assign(new Error(m.message), m.code !== undefined ? { code: m.code } : {});
  return storageError(err) ?? err;
}

export class LogThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The worker opened the file (its `ready`): a request sent may have been written. */
  private ready = false;
  /** Settles when the thread has ended, for whatever reason. */
  readonly exited: Promise<void>;

  /** `onEnd`: told once when the thread ends without being asked to (null: asked to). */
  constructor(
    file: string,
    entry: string = defaultLogWorkerFile(),
    onEnd: (err: Error | null) => void = () => undefined,
  ) {
    const launch = workerLaunch(entry, 'log-worker');
    const data: LogWorkerData = { file };
    this.worker = new Worker(launch.file, {
      workerData: data,
      execArgv: launch.execArgv,
      // The thread holds a batch at a time: a small young generation keeps its heap small
      // (V8 would grow it to tens of MB under 40,000 rows/s, issue 11's memory per device).
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
    });
    this.worker.on('message', (m: FromLogWorker) => {
      if (m.t === 'ready') {
        this.ready = true;
        return;
      }
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.t === 'ok') p.resolve(m.value);
      else p.reject(failure(m));
    });
    let error: Error | null = null;
    this.worker.on('error', (err) => (error = err));
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (code) => {
        const started = this.ready;
        const cause =
          error ?? (this.pending.size > 0 || code !== 0 ? new Error(`exit code ${code}`) : null);
        for (const p of this.pending.values()) {
          p.reject(
            started
              ? new HubError(
                  'storage_failed',
                  `the notification log's thread ended (${cause?.message})`,
                )
              : new LogThreadNotStarted(
                  `the notification log's thread did not start (${cause?.message})`,
                ),
          );
        }
        this.pending.clear();
        onEnd(cause);
        resolve();
      });
    });
  }

  /** Sends one request; settles with its answer, in the order requests were sent. */
  request(m: Request): Promise<LogAnswer> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id } as ToLogWorker);
    });
  }

  /** Ends the thread once it has answered everything sent before. */
  close(): Promise<void> {
    this.worker.postMessage({ t: 'close' } satisfies ToLogWorker);
    return this.exited;
  }
}
