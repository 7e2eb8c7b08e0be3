/**
 * The Network page (issue 12): the doctor's checks, run again on demand, and the hubs seen on
 * the LAN. Each read keeps the last good answer on screen while the next one runs, and a failed
 * read shows its message beside the section it belongs to.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DoctorReport, HubsList } from '../../shared/lan';
import { toApiError } from '../api/api-error';
import type { NetworkApi } from '../api/network-api';

export interface NetworkState {
  report: DoctorReport | null;
  checking: boolean;
  checkError: string | null;
  hubs: HubsList | null;
  browsing: boolean;
  hubsError: string | null;
  /** Runs the checks now (the hub probes its ports and services). */
  runChecks(): Promise<void>;
  /** Asks the LAN again for hubs (the hub listens `waitMs`). */
  browse(waitMs?: number): Promise<void>;
}

export type NetworkStore = StoreApi<NetworkState>;

export interface NetworkDeps {
  api(): NetworkApi | null;
  onUnauthorized(): void;
}

export function createNetworkStore(deps: NetworkDeps): NetworkStore {
  return createStore<NetworkState>()((set, get) => {
    const message = (e: unknown): string => {
      const err = toApiError(e);
      if (err.status === 401) deps.onUnauthorized();
      return err.code > 0 ? `${err.message} (code ${err.code})` : err.message;
    };
    return {
      report: null,
      checking: false,
      checkError: null,
      hubs: null,
      browsing: false,
      hubsError: null,

      async runChecks() {
        const api = deps.api();
        if (!api || get().checking) return;
        set({ checking: true });
        try {
          set({ report: await api.doctor(), checking: false, checkError: null });
        } catch (e) {
          set({ checking: false, checkError: message(e) });
        }
      },

      async browse(waitMs) {
        const api = deps.api();
        if (!api || get().browsing) return;
        set({ browsing: true });
        try {
          set({ hubs: await api.hubs(waitMs), browsing: false, hubsError: null });
        } catch (e) {
          set({ browsing: false, hubsError: message(e) });
        }
      },
    };
  });
}
