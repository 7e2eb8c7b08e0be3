/**
 * The device table's data: applying notifications to the set of devices (PROTOCOL.md 7) and the
 * filtered, sorted view. Pure; the devices store calls these.
 */
import type { DeviceObject, Notification } from '../../shared/types';
import { fwVersion } from './device-fields';

export type DeviceMap = ReadonlyMap<string, DeviceObject>;

export function isDeviceObject(value: unknown): value is DeviceObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    typeof v.name === 'string' &&
    typeof v.online === 'boolean' &&
    v.shadow !== null &&
    typeof v.shadow === 'object'
  );
}

/**
 * Applies a batch of notifications; returns the same map when nothing changed (so subscribers do
 * not re-render for console lines and other events). Unknown or malformed events are ignored.
 */
export function applyDeviceNotifications(
  devices: DeviceMap,
  batch: readonly Notification[],
  nowMs: number,
): DeviceMap {
  let next: Map<string, DeviceObject> | null = null;
  const write = (): Map<string, DeviceObject> => (next ??= new Map(devices));
  const current = (id: string): DeviceObject | undefined => (next ?? devices).get(id);
  for (const n of batch) {
    const data: unknown = n.data;
    switch (n.name) {
      case 'created':
      case 'updated':
        if (isDeviceObject(data)) write().set(data.id, data);
        break;
      case 'deleted': {
        const id = n.id !== '' ? n.id : isDeviceObject(data) ? data.id : '';
        if (current(id)) write().delete(id);
        break;
      }
      case 'online':
      case 'offline': {
        const online = n.name === 'online';
        if (isDeviceObject(data)) {
          write().set(data.id, { ...data, online });
          break;
        }
        const d = current(n.id);
        // Connecting and disconnecting are both moments the hub last heard of the device.
        if (d) {
          write().set(n.id, { ...d, online, last_seen: Math.floor(nowMs / 1000) });
        }
        break;
      }
      default:
        break;
    }
  }
  return next ?? devices;
}

export type SortKey = 'id' | 'name' | 'online' | 'last_seen' | 'fw';
export interface SortSpec {
  key: SortKey;
  dir: 'asc' | 'desc';
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compare(a: DeviceObject, b: DeviceObject, key: SortKey): number {
  switch (key) {
    case 'id':
      return collator.compare(a.id, b.id);
    case 'name':
      return collator.compare(a.name, b.name) || collator.compare(a.id, b.id);
    case 'online':
      return Number(b.online) - Number(a.online) || collator.compare(a.id, b.id);
    case 'last_seen':
      return b.last_seen - a.last_seen || collator.compare(a.id, b.id);
    case 'fw':
      return collator.compare(fwVersion(a), fwVersion(b)) || collator.compare(a.id, b.id);
  }
}

/**
 * Devices matching `query` (case-insensitive substring of id, name or firmware version; several
 * words must all match), sorted. `online` and `last_seen` sort most-recent-first when ascending.
 */
export function visibleDevices(devices: DeviceMap, query: string, sort: SortSpec): DeviceObject[] {
  const words = query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  const out: DeviceObject[] = [];
  for (const d of devices.values()) {
    if (words.length > 0) {
      const hay = `${d.id}\n${d.name}\n${fwVersion(d)}`.toLowerCase();
      if (!words.every((w) => hay.includes(w))) continue;
    }
    out.push(d);
  }
  const sign = sort.dir === 'asc' ? 1 : -1;
  out.sort((a, b) => sign * compare(a, b, sort.key));
  return out;
}

export function countOnline(devices: DeviceMap): number {
  let n = 0;
  for (const d of devices.values()) if (d.online) n++;
  return n;
}
