/**
 * The device table: every device of the hub kept by id, updated live from the notify stream
 * (PROTOCOL.md 7), plus the table's search and sort and the add/delete flows (PROTOCOL.md 4).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DeviceObject, Notification } from '../../shared/types';
import type { ApiClient } from '../api/http-client';
import {
  applyDeviceNotifications,
  type DeviceMap,
  type SortKey,
  type SortSpec,
} from '../lib/device-list';

export interface CreatedDevice {
  device: DeviceObject;
  /** Shown once: the token is the device password (PROTOCOL.md 1). */
  deviceUrl: string;
}

export interface DevicesState {
  devices: DeviceMap;
  loaded: boolean;
  query: string;
  sort: SortSpec;
  creating: boolean;
  /** The device just added, until the dialog showing its token is closed. */
  created: CreatedDevice | null;
  /** Id currently being deleted. */
  deleting: string | null;
  replaceAll(devices: readonly DeviceObject[]): void;
  applyNotifications(batch: readonly Notification[]): void;
  /** Reloads the list from REST; notifications arriving meanwhile are applied after it. */
  resync(): Promise<void>;
  setQuery(query: string): void;
  /** Sorts by `key`; the same key again flips the direction. */
  toggleSort(key: SortKey): void;
  create(input: { name?: string; id?: string }): Promise<DeviceObject | null>;
  dismissCreated(): void;
  remove(id: string): Promise<boolean>;
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

function byId(list: readonly DeviceObject[]): Map<string, DeviceObject> {
  return new Map(list.map((d) => [d.id, d]));
}

function isUnauthorized(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'status' in e && e.status === 401;
}

export function createDevicesStore(deps: DevicesDeps): DevicesStore {
  const now = deps.now ?? Date.now;
  let syncing = 0;
  let heldBack: Notification[] = [];

  return createStore<DevicesState>()((set, get) => ({
    devices: new Map(),
    loaded: false,
    query: '',
    sort: { key: 'id', dir: 'asc' },
    creating: false,
    created: null,
    deleting: null,

    replaceAll(list) {
      set({ devices: byId(list), loaded: true });
    },

    applyNotifications(batch) {
      if (syncing > 0) {
        heldBack.push(...batch);
        return;
      }
      const next = applyDeviceNotifications(get().devices, batch, now());
      if (next !== get().devices) set({ devices: next });
    },

    async resync() {
      const api = deps.api();
      if (!api) return;
      syncing++;
      try {
        const list = await api.listDevices();
        set({ devices: byId(list), loaded: true });
      } catch (e) {
        if (isUnauthorized(e)) deps.onUnauthorized();
        else deps.reportError(e, 'Reload devices');
      } finally {
        syncing--;
        if (syncing === 0 && heldBack.length > 0) {
          const batch = heldBack;
          heldBack = [];
          get().applyNotifications(batch);
        }
      }
    },

    setQuery: (query) => set({ query }),

    toggleSort(key) {
      const { sort } = get();
      set({
        sort:
          sort.key === key
            ? { key, dir: sort.dir === 'asc' ? 'desc' : 'asc' }
            : { key, dir: 'asc' },
      });
    },

    async create(input) {
      const api = deps.api();
      if (!api || get().creating) return null;
      set({ creating: true });
      try {
        const device = await api.createDevice(input);
        const devices = new Map(get().devices);
        devices.set(device.id, device);
        set({ devices, created: { device, deviceUrl: deps.deviceUrl() } });
        return device;
      } catch (e) {
        if (isUnauthorized(e)) deps.onUnauthorized();
        else deps.reportError(e, 'Add device');
        return null;
      } finally {
        set({ creating: false });
      }
    },

    dismissCreated: () => set({ created: null }),

    async remove(id) {
      const api = deps.api();
      if (!api || get().deleting !== null) return false;
      set({ deleting: id });
      try {
        await api.deleteDevice(id);
        if (get().devices.has(id)) {
          const devices = new Map(get().devices);
          devices.delete(id);
          set({ devices });
        }
        return true;
      } catch (e) {
        if (isUnauthorized(e)) deps.onUnauthorized();
        else deps.reportError(e, `Delete ${id}`);
        return false;
      } finally {
        set({ deleting: null });
      }
    },

    clear() {
      heldBack = [];
      set({ devices: new Map(), loaded: false, created: null, deleting: null, creating: false });
    },
  }));
}
