/**
 * The device page's Data tab: the device's latest rows of the `data` table (PROTOCOL.md 5), and
 * its ACL `data_read` / `data_write` (PROTOCOL.md 8) as editable name -> query rows with a run
 * preview. A read query runs through `/devices/:id/data/:name` (the saved one, as a customer
 * would run it); a write query is never run: its text after `DEVICE_ID` replacement is shown and
 * `EXPLAIN` checks that it compiles, with no side effect.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DeviceAcl, DeviceObject, Json } from '../../shared/types';
import { toApiError } from '../api/api-error';
import type { DataApi } from '../api/data-api';
import {
  aclEntries,
  aclWithData,
  countParams,
  entriesProblem,
  substituteIds,
  type AclEntry,
  type AclKind,
} from '../lib/acl-preview';
import type { SqlResult } from '../lib/sql-result';
import type { ActionError } from './devices-store';

export const LATEST_ROWS = 100;
export const LATEST_QUERY = `SELECT * FROM data WHERE device_id=? ORDER BY timestamp DESC LIMIT ${LATEST_ROWS}`;

export type AclPreview =
  | { kind: 'data_read'; name: string; result: SqlResult }
  | { kind: 'data_write'; name: string; query: string; compiles: true }
  | { kind: AclKind; name: string; query?: string; error: ActionError };

export interface DeviceDataState {
  device: string | null;
  rows: SqlResult | null;
  rowsLoading: boolean;
  rowsError: ActionError | null;
  /** The ACL as stored, and the drafts of its two data tables. */
  acl: DeviceAcl;
  read: AclEntry[];
  write: AclEntry[];
  dirty: boolean;
  saving: boolean;
  saveError: ActionError | null;
  /** JSON array text of the params a read preview passes. */
  params: string;
  previewing: string | null;
  preview: AclPreview | null;
  open(device: DeviceObject): void;
  loadRows(): Promise<void>;
  setEntry(kind: AclKind, index: number, entry: AclEntry): void;
  addEntry(kind: AclKind): void;
  removeEntry(kind: AclKind, index: number): void;
  resetAcl(): void;
  saveAcl(): Promise<DeviceObject | null>;
  setParams(text: string): void;
  run(kind: AclKind, index: number): Promise<void>;
  close(): void;
}

export type DeviceDataStore = StoreApi<DeviceDataState>;

export interface DeviceDataDeps {
  api(): DataApi | null;
  onUnauthorized(): void;
}

/** A JSON array of params, or an error text. */
export function parseParamList(text: string): Json[] | string {
  if (text.trim() === '') return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v as Json[]) : 'params must be a JSON array, e.g. [1, "a"]';
  } catch {
    return 'params are not valid JSON';
  }
}

export function createDeviceDataStore(deps: DeviceDataDeps): DeviceDataStore {
  return createStore<DeviceDataState>()((set, get) => {
    const fail = (e: unknown): ActionError => {
      const err = toApiError(e);
      if (err.status === 401) deps.onUnauthorized();
      return { code: err.code, message: err.message };
    };
    const fromAcl = (acl: DeviceAcl): Partial<DeviceDataState> => ({
      acl,
      read: aclEntries(acl, 'data_read'),
      write: aclEntries(acl, 'data_write'),
      dirty: false,
      saveError: null,
    });
    const edit = (kind: AclKind, entries: AclEntry[]): void =>
      set({ [kind === 'data_read' ? 'read' : 'write']: entries, dirty: true, saveError: null });
    const list = (kind: AclKind): AclEntry[] => (kind === 'data_read' ? get().read : get().write);

    return {
      device: null,
      rows: null,
      rowsLoading: false,
      rowsError: null,
      acl: {},
      read: [],
      write: [],
      dirty: false,
      saving: false,
      saveError: null,
      params: '[]',
      previewing: null,
      preview: null,

      open(device) {
        if (get().device === device.id) {
          // The same device again (a refresh): keep unsaved drafts, but take the other ACL
          // fields as stored now (the ACL tab may have saved them), since they are saved along.
          if (!get().dirty) set(fromAcl(device.acl));
          else set({ acl: device.acl });
          return;
        }
        set({
          device: device.id,
          rows: null,
          rowsError: null,
          preview: null,
          ...fromAcl(device.acl),
        });
      },

      async loadRows() {
        const api = deps.api();
        const device = get().device;
        if (!api || device === null) return;
        set({ rowsLoading: true });
        try {
          const rows = await api.exec(LATEST_QUERY, [device]);
          if (get().device === device) set({ rows, rowsLoading: false, rowsError: null });
        } catch (e) {
          if (get().device === device) set({ rowsLoading: false, rowsError: fail(e) });
        }
      },

      setEntry: (kind, index, entry) =>
        edit(
          kind,
          list(kind).map((e, i) => (i === index ? entry : e)),
        ),
      addEntry: (kind) => edit(kind, [...list(kind), { name: '', query: '' }]),
      removeEntry: (kind, index) =>
        edit(
          kind,
          list(kind).filter((_, i) => i !== index),
        ),
      resetAcl: () => set(fromAcl(get().acl)),

      async saveAcl() {
        const api = deps.api();
        const device = get().device;
        if (!api || device === null) return null;
        const problem = entriesProblem(get().read) ?? entriesProblem(get().write);
        if (problem !== null) {
          set({ saveError: { code: 400, message: problem } });
          return null;
        }
        set({ saving: true, saveError: null });
        try {
          const saved = await api.saveAcl(device, aclWithData(get().acl, get().read, get().write));
          set({ saving: false, ...fromAcl(saved.acl) });
          return saved;
        } catch (e) {
          set({ saving: false, saveError: fail(e) });
          return null;
        }
      },

      setParams: (params) => set({ params }),

      async run(kind, index) {
        const api = deps.api();
        const device = get().device;
        const entry = list(kind)[index];
        if (!api || device === null || !entry) return;
        const name = entry.name.trim();
        set({ previewing: `${kind}:${index}`, preview: null });
        try {
          if (kind === 'data_read') {
            const params = parseParamList(get().params);
            if (typeof params === 'string') {
              set({ preview: { kind, name, error: { code: 400, message: params } } });
              return;
            }
            const result = await api.dataRead(device, name, params);
            set({ preview: { kind, name, result } });
          } else {
            const query = substituteIds(entry.query, device);
            try {
              // EXPLAIN compiles the statement without running it; its `?` are bound to null.
              await api.exec(`EXPLAIN ${query}`, new Array<Json>(countParams(query)).fill(null));
              set({ preview: { kind, name, query, compiles: true } });
            } catch (e) {
              set({ preview: { kind, name, query, error: fail(e) } });
            }
          }
        } catch (e) {
          set({ preview: { kind, name, error: fail(e) } });
        } finally {
          set({ previewing: null });
        }
      },

      close: () =>
        set({ device: null, rows: null, rowsError: null, preview: null, ...fromAcl({}) }),
    };
  });
}
