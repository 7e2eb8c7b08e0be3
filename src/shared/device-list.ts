/**
 * The device list's opt-in query (`GET /api/v2/devices?limit=&after=&fields=`) and the device
 * shape notifications carry. Used by the hub (validation, projection, paging) and the dashboard
 * (asking for the few fields its table shows). A plain `GET /devices` keeps returning the whole
 * array of full device objects (PROTOCOL.md 4); everything here only applies when asked for.
 *
 * No Node, DOM or Electron imports: the renderer bundles this file.
 */
import Type from 'typebox';
import type { DeviceObject, Json, JsonObject } from './types';

/** The largest page `?limit=` accepts; a bigger value is a 400, not a silent cap. */
export const MAX_DEVICE_PAGE = 1000;
/** At most this many `fields` entries, each at most `MAX_FIELD_PATH` characters. */
export const MAX_FIELDS = 64;
export const MAX_FIELD_PATH = 256;

/** Top-level keys of the device object (PROTOCOL.md 4) a `fields` path may start with. */
export const DEVICE_KEYS = [
  'id',
  'name',
  'token',
  'online',
  'shadow',
  'acl',
  'created',
  'last_seen',
] as const;

// Query strings arrive as strings; the patterns keep the numbers integral and in range before
// they are converted, so `?limit=1e3` or `?limit=-1` are refused rather than guessed at.
export const DeviceListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
  after: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
  fields: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_FIELDS * MAX_FIELD_PATH })),
});
export type DeviceListQuery = Type.Static<typeof DeviceListQuery>;

/** A `fields` entry split at dots: `shadow.state.reported.ota.fw_version`. */
export type FieldPath = readonly string[];

export type ParsedFields = { ok: true; paths: FieldPath[] } | { ok: false; error: string };

/**
 * Parses `fields=id,name,shadow.state.reported.temp`: comma-separated dotted paths into the
 * device object. The first segment must be a device key, so a typo is a 400, not an empty list.
 * `id` is always returned (it is the row's identity and the paging cursor).
 */
export function parseFields(text: string): ParsedFields {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0) return { ok: false, error: 'fields: name at least one field' };
  if (entries.length > MAX_FIELDS) {
    return { ok: false, error: `fields: at most ${MAX_FIELDS} entries` };
  }
  const paths: FieldPath[] = [];
  for (const entry of entries) {
    if (entry.length > MAX_FIELD_PATH) {
      return { ok: false, error: `fields: an entry is longer than ${MAX_FIELD_PATH} characters` };
    }
    const path = entry.split('.');
    if (path.some((seg) => seg === '')) {
      return { ok: false, error: `fields: '${entry}' has an empty segment` };
    }
    if (!(DEVICE_KEYS as readonly string[]).includes(path[0] ?? '')) {
      return {
        ok: false,
        error: `fields: '${path[0] ?? ''}' is not a device field (${DEVICE_KEYS.join(', ')})`,
      };
    }
    paths.push(path);
  }
  return { ok: true, paths };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The device reduced to the given paths, nested as in the original (`shadow.state.reported.temp`
 * gives `{"shadow":{"state":{"reported":{"temp":..}}}}`); paths that do not exist are left out.
 */
export function projectDevice(device: DeviceObject, paths: readonly FieldPath[]): JsonObject {
  const source = device as unknown as Record<string, unknown>;
  const out: JsonObject = { id: device.id };
  // Shorter paths first, and a path inside one already taken is skipped: values are shared with
  // the device (no copies), so nothing may ever be written inside them.
  const taken: FieldPath[] = [];
  for (const path of [...paths].sort((a, b) => a.length - b.length)) {
    if (taken.some((t) => t.every((seg, i) => path[i] === seg))) continue;
    taken.push(path);
    let value: unknown = source;
    for (const seg of path) {
      value = isObject(value) && Object.hasOwn(value, seg) ? value[seg] : undefined;
      if (value === undefined) break;
    }
    if (value === undefined) continue;
    let target: JsonObject = out;
    for (let i = 0; i < path.length - 1; i++) {
      const seg = path[i] as string;
      const next = target[seg];
      if (isObject(next)) target = next as JsonObject;
      else target = target[seg] = {};
    }
    target[path[path.length - 1] as string] = value as Json;
  }
  return out;
}

/**
 * The device as lifecycle notifications (`created`, `updated`; PROTOCOL.md 3, 7) carry it: the
 * device object without its `token`. Notifications go to every management subscriber and into the
 * stored log for days, so the device password stays out of them; a master-key holder who needs it
 * reads `GET /devices/:id`.
 */
export type NotifiedDevice = Omit<DeviceObject, 'token'>;

export function notifiedDevice(device: DeviceObject): NotifiedDevice {
  const { token: _password, ...rest } = device;
  return rest;
}
