/** State of the notify stream (PROTOCOL.md 7) for the header's live indicator. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { NotifyStatus } from '../api/notify-stream';

export interface ConnectionState {
  status: NotifyStatus;
  /** Frames the hub sent that were not valid notifications. */
  invalidFrames: number;
  /** Set by the app controller to skip the backoff wait. */
  retryNow: () => void;
  setStatus(status: NotifyStatus): void;
  setInvalidFrames(count: number): void;
  setRetry(retry: () => void): void;
}

export type ConnectionStore = StoreApi<ConnectionState>;

export function createConnectionStore(): ConnectionStore {
  return createStore<ConnectionState>()((set) => ({
    status: { state: 'closed' },
    invalidFrames: 0,
    retryNow: () => {},
    setStatus: (status) => set({ status }),
    setInvalidFrames: (invalidFrames) => set({ invalidFrames }),
    setRetry: (retryNow) => set({ retryNow }),
  }));
}
