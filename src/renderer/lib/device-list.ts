/**
 * The device table's data: one small summary per device (only what the table shows, so 10,000
 * devices cost a few hundred KB rather than every shadow), notifications applied to them
 * (PROTOCOL.md 7), and the filtered, sorted list of ids. Pure; the devices store calls these.
 */
import type { DeviceObject, Notification } from '../../shared/types';
import { fwVersion } from './device-fields';

/** What one table row shows. */
export interface DeviceSummary {
  id: string;
  name: string;
  online: boolean;
  /** Unix seconds; 0 if never seen. */
  last_seen: number;
  /** `shadow.state.reported.ota.fw_version`, '' when unknown. */
  fw: string;
}

export type DeviceMap = ReadonlyMap<string, DeviceSummary>;

/**
 * The `fields` the list asks the hub for (README "Device list"): exactly what a summary needs.
 * `shadow.version` keeps the reduced shadow a valid shadow object for the response check.
 */
export const SUMMARY_FIELDS = [
  'id',
  'name',
  'online',
  'last_seen',
  'shadow.version',
  'shadow.state.reported.ota.fw_version',
] as const;

export function summarizeDevice(d: DeviceObject): DeviceSummary {
  return { id: d.id, name: d.name, online: d.online, last_seen: d.last_seen, fw: fwVersion(d) };
}

export function sameSummary(a: DeviceSummary, b: DeviceSummary): boolean {
  return (
    a.id === b.id &&
    a.name === b.name &&
    a.online === b.online &&
    a.last_seen === b.last_seen &&
    a.fw === b.fw
  );
}

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

export interface AppliedNotifications {
  /** The same map when nothing the table shows changed. */
  devices: DeviceMap;
  /** Ids whose summary was added, changed or removed. */
  changed: string[];
}

/**
 * Applies a batch of notifications. A summary that comes out equal to the one held is kept as
 * the same object, so a device reporting its temperature every second re-renders nothing: rows
 * subscribe to their own summary. Unknown or malformed events are ignored.
 */
export function applyDeviceNotifications(
  devices: DeviceMap,
  batch: readonly Notification[],
  nowMs: number,
): AppliedNotifications {
  let next: Map<string, DeviceSummary> | null = null;
  const changed = new Set<string>();
  const current = (id: string): DeviceSummary | undefined => (next ?? devices).get(id);
  const put = (s: DeviceSummary): void => {
    const held = current(s.id);
    if (held && sameSummary(held, s)) return;
    (next ??= new Map(devices)).set(s.id, s);
    changed.add(s.id);
  };
  for (const n of batch) {
    const data: unknown = n.data;
    switch (n.name) {
      case 'created':
      case 'updated':
        if (isDeviceObject(data)) put(summarizeDevice(data));
        break;
      case 'deleted': {
        const id = n.id !== '' ? n.id : isDeviceObject(data) ? data.id : '';
        if (current(id)) {
          (next ??= new Map(devices)).delete(id);
          changed.add(id);
        }
        break;
      }
      case 'online':
      case 'offline': {
        const online = n.name === 'online';
        if (isDeviceObject(data)) {
          put({ ...summarizeDevice(data), online });
          break;
        }
        const d = current(n.id);
        // Connecting and disconnecting are both moments the hub last heard of the device.
        if (d) put({ ...d, online, last_seen: Math.floor(nowMs / 1000) });
        break;
      }
      default:
        break;
    }
  }
  return { devices: next ?? devices, changed: [...changed] };
}

export type SortKey = 'id' | 'name' | 'online' | 'last_seen' | 'fw';
export interface SortSpec {
  key: SortKey;
  dir: 'asc' | 'desc';
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compare(a: DeviceSummary, b: DeviceSummary, key: SortKey): number {
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
      return collator.compare(a.fw, b.fw) || collator.compare(a.id, b.id);
  }
}

function queryWords(query: string): string[] {
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
}

function matches(d: DeviceSummary, words: readonly string[]): boolean {
  if (words.length === 0) return true;
  const hay = `${d.id}\n${d.name}\n${d.fw}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

/**
 * Devices matching `query` (case-insensitive substring of id, name or firmware version; several
 * words must all match), sorted. `online` and `last_seen` sort most-recent-first when ascending.
 */
export function visibleDevices(devices: DeviceMap, query: string, sort: SortSpec): DeviceSummary[] {
  const words = queryWords(query);
  const out: DeviceSummary[] = [];
  for (const d of devices.values()) if (matches(d, words)) out.push(d);
  const sign = sort.dir === 'asc' ? 1 : -1;
  out.sort((a, b) => sign * compare(a, b, sort.key));
  return out;
}

export function visibleIds(devices: DeviceMap, query: string, sort: SortSpec): string[] {
  return visibleDevices(devices, query, sort).map((d) => d.id);
}

/**
 * Whether a device's change can move it in (or into, or out of) the visible list: its presence,
 * a field the query searches, or the sort key. Most changes (a device going online while the
 * table is sorted by id) cannot, and then the list of ids, and the table, stay as they are.
 */
export function changeAffectsOrder(
  before: DeviceSummary | undefined,
  after: DeviceSummary | undefined,
  query: string,
  sort: SortSpec,
): boolean {
  if (!before || !after) return before !== after;
  if (queryWords(query).length > 0 && (before.name !== after.name || before.fw !== after.fw)) {
    return true;
  }
  return before[sort.key] !== after[sort.key];
}

export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function countOnline(devices: DeviceMap): number {
  let n = 0;
  for (const d of devices.values()) if (d.online) n++;
  return n;
}
