/**
 * The `updated` notification's device (PROTOCOL.md 3, 7: the device object without `token`) and
 * its JSON text, built without encoding the device again: the bus, every subscriber and the log
 * reuse the text (notification-bus.ts). Issue 11: one shadow update encoded the shadow for its
 * size check, for its row and again inside this object (8% of the hub's busy time).
 *
 * The text is the concatenation of the parts that rarely change, encoded once per registry row
 * (a row in memory is a frozen object replaced on every change, devices-repo.ts, so it keys a
 * WeakMap), and the shadow's own text, made once by shadow.ts. Key order, and so every byte, is
 * that of `JSON.stringify(notifiedDevice(device))` for the device object DeviceService builds:
 * id, name, online, shadow, acl, created, last_seen (test/unit/devices/notified-device-json.test.ts).
 */
import type { ShadowDoc } from '../../shared/types';
import type { NotifiedDevice } from '../../shared/device-list';
import type { DeviceMeta } from '../store/devices-repo';

/** `{"id":..,"name":..,"online":` and `,"acl":..,"created":..,"last_seen":`. */
interface MetaJson {
  head: string;
  tail: string;
}

const metaJson = new WeakMap<DeviceMeta, MetaJson>();

/**
 * `<lead>"k1":v1,"k2":v2,"<next>":` as one flat string. These parts stay in memory for every
 * online device, and a template literal keeps each as a tree of concatenated-string nodes. For
 * 10,000 devices: ~395 bytes a device with their holder, against ~180 joined.
 */
function fieldsText(lead: string, fields: Record<string, unknown>, next: string): string {
  const parts = [lead];
  for (const [key, value] of Object.entries(fields)) {
    parts.push(JSON.stringify(key), ':', JSON.stringify(value), ',');
  }
  parts.push(JSON.stringify(next), ':');
  return parts.join('');
}

function partsOf(meta: DeviceMeta): MetaJson {
  let parts = metaJson.get(meta);
  if (parts === undefined) {
    parts = {
      head: fieldsText('{', { id: meta.id, name: meta.name }, 'online'),
      tail: fieldsText(',', { acl: meta.acl, created: meta.created }, 'last_seen'),
    };
    metaJson.set(meta, parts);
  }
  return parts;
}

/**
 * The device as notifications carry it (`notifiedDevice` of DeviceService's device object), from
 * its registry row, its live `online` flag, its committed shadow and its newest `last_seen`.
 */
export function notifiedDeviceOf(
  meta: DeviceMeta,
  online: boolean,
  shadow: ShadowDoc,
  lastSeen: number,
): NotifiedDevice {
  return {
    id: meta.id,
    name: meta.name,
    online,
    shadow,
    acl: meta.acl,
    created: meta.created,
    last_seen: lastSeen,
  };
}

/** `JSON.stringify(notifiedDeviceOf(meta, online, shadow, lastSeen))`, given the shadow's text. */
export function notifiedDeviceJson(
  meta: DeviceMeta,
  online: boolean,
  shadowJson: string,
  lastSeen: number,
): string {
  const { head, tail } = partsOf(meta);
  return `${head}${online ? 'true' : 'false'},"shadow":${shadowJson}${tail}${JSON.stringify(lastSeen)}}`;
}
