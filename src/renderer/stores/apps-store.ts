/**
 * The Apps page (PROTOCOL.md 4 `POST /m`): the customer web apps on this hub, a zip upload with
 * its progress and coded refusal (zip slip, zip bomb, size cap) under the drop zone, and delete
 * (never the built-in app, which the hub serves from its own files).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { DEFAULT_APP_ID } from '../../shared/customer-app';
import { toApiError } from '../api/api-error';
import type { AppView, CustomersApi } from '../api/customers-api';
import type { ActionError } from './devices-store';
import type { UploadState } from './firmware-store';

export interface AppsState {
  apps: AppView[];
  loaded: boolean;
  loading: boolean;
  loadError: string | null;
  upload: UploadState | null;
  uploadError: ActionError | null;
  /** The id of the app the last upload created. */
  uploaded: string | null;
  rowErrors: Record<string, ActionError>;
  deleting: string | null;
  refresh(): Promise<void>;
  uploadFile(file: File): Promise<string | null>;
  remove(appId: string): Promise<boolean>;
}

export type AppsStore = StoreApi<AppsState>;

export interface AppsDeps {
  api(): CustomersApi | null;
  onUnauthorized(): void;
}

/** The built-in app first (it is always there), then the uploaded ones, newest first. */
export function withBuiltIn(apps: readonly AppView[]): AppView[] {
  const own = apps.filter((a) => a.app_id !== DEFAULT_APP_ID && a.builtin !== true);
  const builtIn = apps.find((a) => a.app_id === DEFAULT_APP_ID) ?? { app_id: DEFAULT_APP_ID };
  const t = (a: AppView): number =>
    typeof a.created === 'number' ? a.created : Date.parse(a.created ?? '') || 0;
  return [{ ...builtIn, builtin: true }, ...own.sort((a, b) => t(b) - t(a))];
}

export function createAppsStore(deps: AppsDeps): AppsStore {
  return createStore<AppsState>()((set, get) => {
    const fail = (e: unknown): ActionError => {
      const err = toApiError(e);
      if (err.status === 401) deps.onUnauthorized();
      return { code: err.code, message: err.message };
    };
    return {
      apps: withBuiltIn([]),
      loaded: false,
      loading: false,
      loadError: null,
      upload: null,
      uploadError: null,
      uploaded: null,
      rowErrors: {},
      deleting: null,

      async refresh() {
        const api = deps.api();
        if (!api) return;
        set({ loading: true });
        try {
          const apps = withBuiltIn(await api.listApps());
          set({ apps, loaded: true, loading: false, loadError: null });
        } catch (e) {
          set({ loading: false, loadError: fail(e).message });
        }
      },

      async uploadFile(file) {
        const api = deps.api();
        if (!api || get().upload) return null;
        set({
          upload: { name: file.name, loaded: 0, total: file.size },
          uploadError: null,
          uploaded: null,
        });
        try {
          const id = await api.uploadApp(file, file.name, (p) =>
            set({ upload: { name: file.name, loaded: p.loaded, total: p.total } }),
          );
          set({ upload: null, uploaded: id });
          await get().refresh();
          return id;
        } catch (e) {
          set({ upload: null, uploadError: fail(e) });
          return null;
        }
      },

      async remove(appId) {
        const api = deps.api();
        if (!api || appId === DEFAULT_APP_ID) return false;
        const rowErrors = { ...get().rowErrors };
        delete rowErrors[appId];
        set({ deleting: appId, rowErrors });
        try {
          await api.deleteApp(appId);
        } catch (e) {
          if (toApiError(e).status !== 404) {
            set({ deleting: null, rowErrors: { ...get().rowErrors, [appId]: fail(e) } });
            return false;
          }
        }
        set({ deleting: null, apps: get().apps.filter((a) => a.app_id !== appId) });
        return true;
      },
    };
  });
}
