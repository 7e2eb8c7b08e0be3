/**
 * The device table: a summary of every device of the hub kept by id, updated live from the notify
 * stream (PROTOCOL.md 7), the filtered and sorted ids the table shows, and the add/delete flows
 * (PROTOCOL.md 4).
 *
 * Built for 10,000 devices: the list is read once with only the table's fields, `visibleIds` is
 * replaced only when the rows' order or membership really changes (so the table does not
 * re-render for a device going online), and each row subscribes to its own summary.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DeviceObject, Notification } from '../../shared/types';
import { toApiError } from '../api/api-error';
import type { ApiClient } from '../api/http-client';
import {
  applyDeviceNotifications,
  changeAffectsOrder,
  countOnline,
  sameIds,
  summarizeDevice,
  SUMMARY_FIELDS,
  visibleIds,
  type DeviceMap,
  type DeviceSummary,
  type SortKey,
  type SortSpec,
} from '../lib/device-list';

export interface CreatedDevice {
  device: DeviceObject;
  /** Shown once here; the device page shows it again on demand (PROTOCOL.md 1 password). */
  deviceUrl: string;
}

/** A failed action, shown where it was attempted (inside its dialog), with the hub's code. */
export interface ActionError {
  code: number;
  message: string;
}

export interface DevicesState {
  devices: DeviceMap;
  /** Ids matching the query, sorted: what the table shows. */
  visibleIds: readonly string[];
  onlineCount: number;
  loaded: boolean;
  query: string;
  sort: SortSpec;
  creating: boolean;
  createError: ActionError | null;
  /** The device just added, until the dialog showing its token is closed. */
  created: CreatedDevice | null;
  /** Id currently being deleted. */
  deleting: string | null;
  deleteError: ActionError | null;
  /**
   * The first read of the list (it also proves the key): throws the hub's error so the login
   * form can show it. Notifications arriving meanwhile are applied after it.
   */
  load(api: ApiClient): Promise<void>;
  replaceAll(devices: readonly DeviceObject[]): void;
  applyNotifications(batch: readonly Notification[]): void;
  /** Reloads the list from REST (after a reconnect); errors become a toast. */
  resync(): Promise<void>;
  setQuery(query: string): void;
  /** Sorts by `key`; the same key again flips the direction. */
  toggleSort(key: SortKey): void;
  create(input: { name?: string; id?: string }): Promise<DeviceObject | null>;
  dismissCreated(): void;
  /** Forgets the add dialog's error (the dialog closed or the input changed). */
  clearCreateError(): void;
  remove(id: string): Promise<boolean>;
  clearDeleteError(): void;
  clear(): void;
}

export interface DevicesDeps {
  api(): ApiClient | null;
  deviceUrl(): string;
  reportError(error: unknown, context: string): void;
  /** A 401 during a background call means the key was revoked. */
  onUnauthorized(): void;
  now?(): number;
}

export type DevicesStore = StoreApi<DevicesState>;

function byId(list: readonly DeviceObject[]): Map<string, DeviceSummary> {
  return new Map(list.map((d) => [d.id, summarizeDevice(d)]));
}

function isUnauthorized(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'status' in e && e.status === 401;
}

function actionError(e: unknown): ActionError {
  const err = toApiError(e);
  return { code: err.code, message: err.message };
}

export function createDevicesStore(deps: DevicesDeps): DevicesStore {
  const now = deps.now ?? Date.now;
  let syncing = 0;
  let heldBack: Notification[] = [];

  return createStore<DevicesState>()((set, get) => {
    /** Sets the devices and recomputes the visible ids; keeps the old array when equal. */
    function setDevices(devices: DeviceMap, changed: readonly string[] | null): void {
      const s = get();
      let ids = s.visibleIds;
      const reorder =
        changed === null ||
        changed.some((id) =>
          changeAffectsOrder(s.devices.get(id), devices.get(id), s.query, s.sort),
        );
      if (reorder) {
        const next = visibleIds(devices, s.query, s.sort);
        if (!sameIds(next, ids)) ids = next;
      }
      set({ devices, visibleIds: ids, onlineCount: countOnline(devices) });
    }

    function view(query: string, sort: SortSpec): void {
      const next = visibleIds(get().devices, query, sort);
      set({ query, sort, ...(sameIds(next, get().visibleIds) ? {} : { visibleIds: next }) });
    }

    async function fetchList(api: ApiClient): Promise<void> {
      syncing++;
      try {
        const list = await api.listDevices(SUMMARY_FIELDS);
        setDevices(byId(list), null);
        set({ loaded: true });
      } finally {
        syncing--;
        if (syncing === 0 && heldBack.length > 0) {
          const batch = heldBack;
          heldBack = [];
          get().applyNotifications(batch);
        }
      }
    }

    return {
      devices: new Map(),
      visibleIds: [],
      onlineCount: 0,
      loaded: false,
      query: '',
      sort: { key: 'id', dir: 'asc' },
      creating: false,
      createError: null,
      created: null,
      deleting: null,
      deleteError: null,

      load: (api) => fetchList(api),

      replaceAll(list) {
        setDevices(byId(list), null);
        set({ loaded: true });
      },

      applyNotifications(batch) {
        if (syncing > 0) {
          heldBack.push(...batch);
          return;
        }
        const r = applyDeviceNotifications(get().devices, batch, now());
        if (r.devices !== get().devices) setDevices(r.devices, r.changed);
      },

      async resync() {
        const api = deps.api();
        if (!api) return;
        try {
          await fetchList(api);
        } catch (e) {
          if (isUnauthorized(e)) deps.onUnauthorized();
          else deps.reportError(e, 'Reload devices');
        }
      },

      setQuery: (query) => view(query, get().sort),

      toggleSort(key) {
        const { sort, query } = get();
        view(
          query,
          sort.key === key
            ? { key, dir: sort.dir === 'asc' ? 'desc' : 'asc' }
            : { key, dir: 'asc' },
        );
      },

      async create(input) {
        const api = deps.api();
        if (!api || get().creating) return null;
        set({ creating: true, createError: null });
        try {
          const device = await api.createDevice(input);
          const devices = new Map(get().devices);
          devices.set(device.id, summarizeDevice(device));
          setDevices(devices, [device.id]);
          set({ created: { device, deviceUrl: deps.deviceUrl() } });
          return device;
        } catch (e) {
          // Shown inside the still-open dialog, where the user acts on it (not behind it).
          if (isUnauthorized(e)) deps.onUnauthorized();
          else set({ createError: actionError(e) });
          return null;
        } finally {
          set({ creating: false });
        }
      },

      dismissCreated: () => set({ created: null, createError: null }),
      clearCreateError: () => set({ createError: null }),

      async remove(id) {
        const api = deps.api();
        if (!api || get().deleting !== null) return false;
        set({ deleting: id, deleteError: null });
        try {
          await api.deleteDevice(id);
          if (get().devices.has(id)) {
            const devices = new Map(get().devices);
            devices.delete(id);
            setDevices(devices, [id]);
          }
          return true;
        } catch (e) {
          if (isUnauthorized(e)) deps.onUnauthorized();
          else set({ deleteError: actionError(e) });
          return false;
        } finally {
          set({ deleting: null });
        }
      },

      clearDeleteError: () => set({ deleteError: null }),

      clear() {
        heldBack = [];
        set({
          devices: new Map(),
          visibleIds: [],
          onlineCount: 0,
          loaded: false,
          created: null,
          createError: null,
          deleting: null,
          deleteError: null,
          creating: false,
        });
      },
    };
  });
}
