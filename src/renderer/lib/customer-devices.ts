/**
 * Which devices a customer reaches (PROTOCOL.md 4 and 8): a customer holds device PUBLIC keys
 * (`pubkeys`), and a device is reached through the key set as its ACL `public_key`. The Customers
 * page shows those keys as the devices they open, and links or unlinks a device by editing the
 * customer's `pubkeys` (replaced whole by the hub, so every edit sends the full new map).
 */
import type { JsonObject } from '../../shared/types';

export interface KeyedDevice {
  id: string;
  name: string;
  /** The device ACL's `public_key`; '' when customer access is off. */
  publicKey: string;
}

export interface LinkedKey {
  key: string;
  /** The devices whose ACL names this key (none: the key opens nothing on this hub now). */
  devices: KeyedDevice[];
}

export function linkedKeys(
  pubkeys: Readonly<Record<string, unknown>>,
  devices: readonly KeyedDevice[],
): LinkedKey[] {
  const byKey = new Map<string, KeyedDevice[]>();
  for (const d of devices) {
    if (d.publicKey === '') continue;
    const list = byKey.get(d.publicKey) ?? [];
    list.push(d);
    byKey.set(d.publicKey, list);
  }
  return Object.keys(pubkeys).map((key) => ({ key, devices: byKey.get(key) ?? [] }));
}

/** How many devices the customer reaches now. */
export const linkedDeviceCount = (
  pubkeys: Readonly<Record<string, unknown>>,
  devices: readonly KeyedDevice[],
): number => linkedKeys(pubkeys, devices).reduce((n, k) => n + k.devices.length, 0);

/** The `pubkeys` map with `key` added (its existing per-key data kept) or removed. */
export function withKey(
  pubkeys: Readonly<Record<string, JsonObject>>,
  key: string,
  linked: boolean,
): Record<string, JsonObject> {
  const next = { ...pubkeys };
  if (linked) next[key] = pubkeys[key] ?? {};
  else delete next[key];
  return next;
}

/** Devices that can be linked: customer access on (a public key) and not linked yet. */
export const linkableDevices = (
  pubkeys: Readonly<Record<string, unknown>>,
  devices: readonly KeyedDevice[],
): KeyedDevice[] => devices.filter((d) => d.publicKey !== '' && !(d.publicKey in pubkeys));

/** A hub date (Unix seconds or ms, or an ISO text) as Unix seconds; 0 when unknown. */
export function toUnixSeconds(v: number | string | null | undefined): number {
  if (typeof v === 'number') return v > 1e12 ? Math.floor(v / 1000) : v;
  if (typeof v === 'string') {
    const ms = Date.parse(v.includes('T') || v.includes('Z') ? v : `${v.replace(' ', 'T')}Z`);
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
  }
  return 0;
}
