/**
 * The LAN services section of Settings (issue 12): the hub's status (polled while the section is
 * shown, for the live counters) and applying new settings. The last good status stays on screen
 * while the next read runs; a refused save shows its message and changes nothing.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { LanSettingsPatch, LanStatus } from '../../shared/lan';
import { toApiError } from '../api/api-error';
import type { LanApi } from '../api/lan-api';

export interface LanState {
  status: LanStatus | null;
  loadError: string | null;
  saving: boolean;
  saveError: string | null;
  refresh(): Promise<void>;
  /** Saves and applies; true when the hub took it. */
  apply(patch: LanSettingsPatch): Promise<boolean>;
}

export type LanStore = StoreApi<LanState>;

export interface LanDeps {
  api(): LanApi | null;
  onUnauthorized(): void;
}

export function createLanStore(deps: LanDeps): LanStore {
  return createStore<LanState>()((set, get) => {
    const message = (e: unknown): string => {
      const err = toApiError(e);
      if (err.status === 401) deps.onUnauthorized();
      return err.code > 0 ? `${err.message} (code ${err.code})` : err.message;
    };
    return {
      status: null,
      loadError: null,
      saving: false,
      saveError: null,

      async refresh() {
        const api = deps.api();
        if (!api) return;
        try {
          const status = await api.status();
          // A save in flight answers with the newer status: do not overwrite it with an older read.
          if (!get().saving) set({ status, loadError: null });
        } catch (e) {
          set({ loadError: message(e) });
        }
      },

      async apply(patch) {
        const api = deps.api();
        if (!api || get().saving) return false;
        set({ saving: true, saveError: null });
        try {
          set({ status: await api.apply(patch), saving: false });
          return true;
        } catch (e) {
          set({ saving: false, saveError: message(e) });
          return false;
        }
      },
    };
  });
}
