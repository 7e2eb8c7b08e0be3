/**
 * Stores every notification for `POST /logs` (as stored-log-data.ts says: bulk bytes summarized,
 * data rows left to the account database) and applies retention by count and age on a timer
 * (PROTOCOL.md 7).
 */
import type { NotificationBus } from './notification-bus';
import type { LogRepo } from '../store/log-repo';
import type { LogRetention } from '../config';
import { storedLogData } from './stored-log-data';

export interface LogWriter {
  /** Applies retention now; resolves with how many entries went (0 when it failed). */
  sweep(): Promise<number>;
  stop(): void;
}

export function startLogWriter(
  bus: NotificationBus,
  log: LogRepo,
  retention: LogRetention,
  onError: (err: unknown) => void,
): LogWriter {
  // Rows of one batch share one promise: one handler per batch, not a promise per row.
  let watched: Promise<void> | null = null;
  const unsubscribe = bus.subscribe((p) => {
    const data = storedLogData(p.n, () => p.dataJson);
    if (data === null) return;
    const done = log.append(p.n, Date.now(), data);
    if (done !== watched) {
      watched = done;
      done.catch(onError);
    }
  });
  const sweep = (): Promise<number> =>
    log.prune(Date.now(), retention.maxAgeMs, retention.maxEntries).catch((err: unknown) => {
      onError(err);
      return 0;
    });
  const timer = setInterval(() => void sweep(), retention.sweepIntervalMs);
  timer.unref();
  return {
    sweep,
    stop() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
