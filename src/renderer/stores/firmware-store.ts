/**
 * The Firmware page (PROTOCOL.md 9 `/firmware`): the library list, an upload with its progress and
 * outcome (201 new, 200 "already in the library"), ELF attach, download and delete. Errors stay
 * where the action was taken: the upload's under the drop zone, a delete's (409 while an active
 * rollout uses the firmware) on that firmware's row.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { toApiError } from '../api/api-error';
import type { OtaApi, UploadProgress } from '../api/ota-api';
import type { FirmwareView } from '../api/schemas';
import type { ActionError } from './devices-store';

export interface UploadState {
  name: string;
  loaded: number;
  total: number;
}

export interface UploadOutcome {
  firmware: FirmwareView;
  existed: boolean;
}

export interface FirmwareState {
  list: FirmwareView[];
  loaded: boolean;
  loading: boolean;
  loadError: string | null;
  upload: UploadState | null;
  uploadError: ActionError | null;
  lastUpload: UploadOutcome | null;
  /** Per firmware id: the last failed row action (delete, ELF, download). */
  rowErrors: Record<string, ActionError>;
  busy: Record<string, 'delete' | 'elf' | 'download'>;
  refresh(): Promise<void>;
  uploadFiles(input: { file: File; elf?: File; notes?: string }): Promise<UploadOutcome | null>;
  attachElf(id: string, elf: File): Promise<boolean>;
  remove(id: string): Promise<boolean>;
  download(id: string): Promise<void>;
  clearUploadMessages(): void;
  clearRowError(id: string): void;
}

export type FirmwareStore = StoreApi<FirmwareState>;

export interface FirmwareDeps {
  api(): OtaApi | null;
  saveFile(blob: Blob, name: string): void;
  onUnauthorized(): void;
}

const asAction = (e: unknown): ActionError => {
  const err = toApiError(e);
  return { code: err.code, message: err.message };
};

export function createFirmwareStore(deps: FirmwareDeps): FirmwareStore {
  return createStore<FirmwareState>()((set, get) => {
    const rowError = (id: string, e: unknown): void => {
      if (toApiError(e).status === 401) deps.onUnauthorized();
      set({ rowErrors: { ...get().rowErrors, [id]: asAction(e) } });
    };
    const setBusy = (id: string, what: FirmwareState['busy'][string] | null): void => {
      const busy = { ...get().busy };
      if (what === null) delete busy[id];
      else busy[id] = what;
      set({ busy });
    };
    const clearRow = (id: string): void => {
      const rowErrors = { ...get().rowErrors };
      delete rowErrors[id];
      set({ rowErrors });
    };

    return {
      list: [],
      loaded: false,
      loading: false,
      loadError: null,
      upload: null,
      uploadError: null,
      lastUpload: null,
      rowErrors: {},
      busy: {},

      async refresh() {
        const api = deps.api();
        if (!api) return;
        set({ loading: true });
        try {
          const list = await api.listFirmware();
          list.sort((a, b) => b.created - a.created || a.name.localeCompare(b.name));
          set({ list, loaded: true, loading: false, loadError: null });
        } catch (e) {
          if (toApiError(e).status === 401) deps.onUnauthorized();
          set({ loading: false, loadError: toApiError(e).message });
        }
      },

      async uploadFiles(input) {
        const api = deps.api();
        if (!api || get().upload) return null;
        set({
          upload: { name: input.file.name, loaded: 0, total: input.file.size },
          uploadError: null,
          lastUpload: null,
        });
        try {
          const outcome = await api.uploadFirmware(
            {
              file: input.file,
              name: input.file.name,
              ...(input.elf ? { elf: { file: input.elf, name: input.elf.name } } : {}),
              ...(input.notes ? { notes: input.notes } : {}),
            },
            (p: UploadProgress) =>
              set({ upload: { name: input.file.name, loaded: p.loaded, total: p.total } }),
          );
          set({ upload: null, lastUpload: outcome });
          await get().refresh();
          return outcome;
        } catch (e) {
          if (toApiError(e).status === 401) deps.onUnauthorized();
          set({ upload: null, uploadError: asAction(e) });
          return null;
        }
      },

      async attachElf(id, elf) {
        const api = deps.api();
        if (!api) return false;
        clearRow(id);
        setBusy(id, 'elf');
        try {
          const f = await api.attachElf(id, { file: elf, name: elf.name });
          set({ list: get().list.map((x) => (x.id === id ? f : x)) });
          return true;
        } catch (e) {
          rowError(id, e);
          return false;
        } finally {
          setBusy(id, null);
        }
      },

      async remove(id) {
        const api = deps.api();
        if (!api) return false;
        clearRow(id);
        setBusy(id, 'delete');
        try {
          await api.deleteFirmware(id);
          set({ list: get().list.filter((x) => x.id !== id) });
          return true;
        } catch (e) {
          if (toApiError(e).code === 4045) {
            // Someone else deleted it meanwhile: the list was stale, not the action wrong.
            set({ list: get().list.filter((x) => x.id !== id) });
            return true;
          }
          rowError(id, e);
          return false;
        } finally {
          setBusy(id, null);
        }
      },

      async download(id) {
        const api = deps.api();
        if (!api) return;
        clearRow(id);
        setBusy(id, 'download');
        try {
          const { blob, name } = await api.downloadFirmware(id);
          deps.saveFile(blob, name);
        } catch (e) {
          rowError(id, e);
        } finally {
          setBusy(id, null);
        }
      },

      clearUploadMessages: () => set({ uploadError: null, lastUpload: null }),
      clearRowError: clearRow,
    };
  });
}
