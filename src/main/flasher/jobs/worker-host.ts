/**
 * Runs one flash request in its own process (flash-worker.ts; FLASHING.md 0.3) and turns
 * everything that can go wrong with that process into a FlashError, so a job always ends: the
 * process crashing or exiting without an answer (`internal`, with its last stderr line), going
 * silent for too long (`timeout`), or not stopping after a cancel (`cancelled`). The process is
 * killed in every case before the promise settles, so the caller can release the port lease
 * knowing nobody holds the device any more (the kernel closed the descriptors).
 *
 * Why a process and not a worker thread: see flash-worker.ts (serialport's poller is not
 * thread-safe).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findWorkerEntry, workerLaunch } from '../../worker-entry';
import { FlashError, type FlashState } from '../../../shared/flash-state';
import type { FlashRequest } from './flash-request';
import type { FlashOutcome, RunnerTuning } from './flash-runner';
import { INTERNAL_HINT } from './job-errors';
import { isFromWorker, type ToWorker } from './worker-protocol';

/**
 * A worker that sends nothing for this long is stuck (every flasher step reports or times out well
 * within it; a chip erase of 16 MB, the slowest step, is bounded at 120 s by esptool).
 */
export const DEFAULT_STALL_TIMEOUT_MS = 180_000;
/** After a cancel the worker has this long to close the port and answer before it is killed. */
export const DEFAULT_CANCEL_GRACE_MS = 2_000;
/** After its answer the worker exits by itself; it is killed if it has not within this. */
const EXIT_GRACE_MS = 2_000;

export interface WorkerRunOptions {
  onState: (state: FlashState) => void;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
  stallTimeoutMs?: number;
  cancelGraceMs?: number;
  /** The worker entry; default: the built flash-worker.js next to this bundle, or the .ts source. */
  workerFile?: string;
  tuning?: RunnerTuning;
}

/** Where the worker entry lives (worker-entry.ts): out/main/flash-worker.js, or the .ts source. */
export function defaultWorkerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return findWorkerEntry(here, 'flash-worker', join(here, '..', 'flash-worker.ts'));
}

function startWorker(entry: string): ChildProcess {
  const { file, execArgv } = workerLaunch(entry, 'flash-worker');
  return fork(file, [], {
    execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
}

export function runFlashInWorker(req: FlashRequest, opts: WorkerRunOptions): Promise<FlashOutcome> {
  const file = opts.workerFile ?? defaultWorkerFile();
  const stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const graceMs = opts.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;

  return new Promise<FlashOutcome>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new FlashError('cancelled', 'flashing was cancelled'));
      return;
    }
    let child: ChildProcess;
    try {
      child = startWorker(file);
    } catch (err) {
      reject(
        new FlashError(
          'internal',
          `the flash worker could not start (${file}): ${(err as Error).message}`,
          INTERNAL_HINT,
        ),
      );
      return;
    }
    let outcome: { ok: FlashOutcome } | { err: FlashError } | null = null;
    let exited = false;
    let stallTimer: NodeJS.Timeout | null = null;
    let graceTimer: NodeJS.Timeout | null = null;
    let killTimer: NodeJS.Timeout | null = null;
    let stderrTail = '';

    const settle = (): void => {
      if (stallTimer) clearTimeout(stallTimer);
      if (graceTimer) clearTimeout(graceTimer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      const o = outcome;
      if (!o) return;
      if ('ok' in o) resolve(o.ok);
      else reject(o.err);
    };

    /** Records the outcome (first one wins) and makes sure the process goes away. */
    const end = (o: { ok: FlashOutcome } | { err: FlashError }, kill: boolean): void => {
      outcome ??= o;
      if (exited) return settle();
      if (kill) child.kill('SIGKILL');
      else killTimer ??= setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
    };

    const armStall = (): void => {
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        end(
          {
            err: new FlashError(
              'timeout',
              `the flash worker reported nothing for ${Math.round(stallMs / 1000)} s and was stopped`,
              'The board or the serial adapter stopped responding. Unplug and replug it, then try again.',
            ),
          },
          true,
        );
      }, stallMs);
    };

    const onAbort = (): void => {
      const cancel: ToWorker = { type: 'cancel' };
      if (child.connected) child.send(cancel, () => {});
      graceTimer ??= setTimeout(
        () => end({ err: new FlashError('cancelled', 'flashing was cancelled') }, true),
        graceMs,
      );
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderrTail = (stderrTail + text).slice(-2000);
    });
    child.on('message', (msg: unknown) => {
      if (outcome) return;
      armStall();
      if (!isFromWorker(msg)) {
        end(
          {
            err: new FlashError(
              'internal',
              'the flash worker sent a malformed message',
              INTERNAL_HINT,
            ),
          },
          true,
        );
        return;
      }
      switch (msg.type) {
        case 'state':
          opts.onState(msg.state);
          break;
        case 'log':
          opts.onLog?.(msg.line);
          break;
        case 'result':
          end({ ok: msg.result }, false);
          break;
        case 'error':
          end({ err: new FlashError(msg.code, msg.message, msg.hint) }, false);
          break;
      }
    });
    child.on('error', (err) => {
      // Spawn failures and IPC send failures; the 'exit' event follows when the process existed.
      outcome ??= {
        err: new FlashError('internal', `the flash worker failed: ${err.message}`, INTERNAL_HINT),
      };
      if (child.pid === undefined) {
        exited = true;
        settle();
      }
    });
    child.on('exit', (code, signal) => {
      exited = true;
      if (!outcome) {
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        const last = lastLine(stderrTail);
        outcome = {
          err: new FlashError(
            'internal',
            `the flash worker ${how} before it finished${last ? `: ${last}` : ''}`,
            INTERNAL_HINT,
          ),
        };
      }
      settle();
    });

    armStall();
    const start: ToWorker = {
      type: 'start',
      request: req,
      ...(opts.tuning ? { tuning: opts.tuning } : {}),
    };
    child.send(start, (err) => {
      if (err)
        end(
          {
            err: new FlashError(
              'internal',
              `could not start the flash: ${err.message}`,
              INTERNAL_HINT,
            ),
          },
          true,
        );
    });
  });
}

function lastLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return (lines.at(-1) ?? '').slice(0, 300);
}
