/**
 * State of the notify stream (PROTOCOL.md 7): the header's live indicator, and whether what the
 * dashboard shows is live at all. While the stream is down nothing tells the page that devices
 * went offline or values changed, so every view says so (the offline banner, greyed values) and
 * names the moment its data was last known to be current.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { NotifyStatus } from '../api/notify-stream';

export interface ConnectionState {
  status: NotifyStatus;
  /**
   * When the shown data stopped being live (the stream closed, or the first connect failed);
   * null while live. The banner shows it as "last update".
   */
  lostAt: number | null;
  /** Frames the hub sent that were not valid notifications. */
  invalidFrames: number;
  /** Set by the app controller to skip the backoff wait. */
  retryNow: () => void;
  setStatus(status: NotifyStatus): void;
  setInvalidFrames(count: number): void;
  setRetry(retry: () => void): void;
}

export type ConnectionStore = StoreApi<ConnectionState>;

/** True when the page may be showing stale data: the stream is down after a failure. */
export function isStale(s: Pick<ConnectionState, 'lostAt'>): boolean {
  return s.lostAt !== null;
}

export function createConnectionStore(now: () => number = Date.now): ConnectionStore {
  return createStore<ConnectionState>()((set, get) => ({
    status: { state: 'closed' },
    lostAt: null,
    invalidFrames: 0,
    retryNow: () => {},
    setStatus(status) {
      const { lostAt } = get();
      let next = lostAt;
      if (status.state === 'open' || status.state === 'closed') next = null;
      // The first attempt of a fresh stream is not a loss; a retry (attempt > 0) is.
      else if (lostAt === null && (status.state === 'reconnecting' || status.attempt > 0))
        next = now();
      set({ status, lostAt: next });
    },
    setInvalidFrames: (invalidFrames) => set({ invalidFrames }),
    setRetry: (retryNow) => set({ retryNow }),
  }));
}
