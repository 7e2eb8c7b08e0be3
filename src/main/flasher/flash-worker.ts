/**
 * Entry of the process that runs one flash job off the hub's event loop (FLASHING.md 0.3 and
 * 1.5-c: esptool-js blocks its event loop for ~90 ms per compressed block). It is its own build
 * entry (electron.vite.config.ts -> out/main/flash-worker.js); jobs/worker-host.ts forks it with
 * an IPC channel (advanced serialization, so file bytes travel as Uint8Arrays).
 *
 * A child process rather than a worker thread: serialport's native poller delivers its callbacks
 * on the main thread's libuv loop, so reading a port from a worker thread aborts the whole process
 * ("HandleScope ... without proper locking", serialport/node-serialport#2250, #2748; reproduced
 * here with bindings-cpp 13). A process also gives the port back for certain when it dies: the
 * kernel closes its descriptors and drops serialport's flock.
 *
 * Protocol (jobs/worker-protocol.ts): wait for `start`, run the flash, send `state`/`log`
 * messages, then one `result` or `error` and exit; `cancel` aborts the run through an
 * AbortSignal. The flashers close the port in `finally`, so the port is free before the answer.
 */
import type { FlashState } from '../../shared/flash-state';
import { runFlash } from './jobs/flash-runner';
import { toJobError } from './jobs/job-errors';
import { isToWorker, type FromWorker } from './jobs/worker-protocol';

function send(m: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, undefined, () => resolve());
  });
}

if (process.send) {
  const abort = new AbortController();
  let started = false;
  // The host went away (hub stopped or crashed): stop flashing and let the port go.
  process.on('disconnect', () => {
    abort.abort();
    setTimeout(() => process.exit(1), 2000).unref();
  });
  process.on('message', (msg: unknown) => {
    if (!isToWorker(msg)) return;
    if (msg.type === 'cancel') {
      abort.abort();
      return;
    }
    if (started) return;
    started = true;
    const report = (state: FlashState): void => void send({ type: 'state', state });
    runFlash(msg.request, report, abort.signal, {
      log: (line) => void send({ type: 'log', line }),
      ...(msg.tuning ? { tuning: msg.tuning } : {}),
    })
      .then(
        (result) => send({ type: 'result', result }),
        (err: unknown) => {
          const fe = toJobError(err);
          return send({
            type: 'error',
            code: fe.code,
            message: fe.message,
            ...(fe.hint ? { hint: fe.hint } : {}),
          });
        },
      )
      .finally(() => process.exit(0));
  });
}
