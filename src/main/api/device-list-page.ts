/**
 * `GET /api/v2/devices` with its opt-in query (README "Device list"): a `fields` projection and
 * cursor paging. Pure: takes where the devices come from and the validated query, returns the body
 * and headers. A page reads only its own devices (issue 11: a page of 100 out of 10,000 made all
 * 10,000 first).
 *
 * The body is always an array, so a client that reads `GET /devices` as an array of device
 * objects (PROTOCOL.md 4) reads a page the same way; where the next page starts is in headers
 * (`Link: <..>; rel="next"` and `X-Next-After`), present only while there is more.
 */
import {
  MAX_DEVICE_PAGE,
  parseFields,
  projectDevice,
  type DeviceListQuery,
  type FieldPath,
} from '../../shared/device-list';
import { HubError } from '../../shared/errors';
import type { DeviceObject, JsonObject } from '../../shared/types';

/** Where the devices come from (the device service). */
export interface DeviceListSource {
  /** Every device, in list order (oldest first). */
  list(): DeviceObject[];
  /** Every device's id, in any order. */
  ids(): string[];
  /** One device; undefined if it was deleted since `ids()`. */
  find(id: string): DeviceObject | undefined;
}

export interface DeviceListPage {
  body: DeviceObject[] | JsonObject[];
  headers: Record<string, string>;
}

/** Headers a browser on another origin may read (CORS hides all but a few by default). */
const PAGING_HEADERS = 'Link, X-Next-After, X-Total-Count';

export function deviceListPage(source: DeviceListSource, query: DeviceListQuery): DeviceListPage {
  let paths: FieldPath[] | null = null;
  if (query.fields !== undefined) {
    const parsed = parseFields(query.fields);
    if (!parsed.ok) throw new HubError('validation_failed', parsed.error);
    paths = parsed.paths;
  }
  const project = (list: DeviceObject[]): DeviceObject[] | JsonObject[] =>
    paths === null ? list : list.map((d) => projectDevice(d, paths));

  if (query.limit === undefined) {
    if (query.after !== undefined) {
      throw new HubError('validation_failed', 'after: paging needs limit as well');
    }
    return { body: project(source.list()), headers: {} };
  }

  // Pages are in id order (a stable order that inserts and deletes elsewhere cannot shift), and
  // `after` is the last id of the previous page: it need not exist any more.
  const limit = Number(query.limit);
  if (limit > MAX_DEVICE_PAGE) {
    throw new HubError('validation_failed', `limit: at most ${MAX_DEVICE_PAGE} devices per page`);
  }
  // The default sort compares UTF-16 code units, as `<` on strings does.
  const sorted = source.ids().sort();
  const after = query.after;
  const start = after === undefined ? 0 : sorted.findIndex((id) => id > after);
  const rest = start === -1 ? [] : sorted.slice(start);
  const pageIds = rest.slice(0, limit);
  const page: DeviceObject[] = [];
  for (const id of pageIds) {
    const device = source.find(id);
    if (device !== undefined) page.push(device);
  }
  const headers: Record<string, string> = {
    'X-Total-Count': String(sorted.length),
    'Access-Control-Expose-Headers': PAGING_HEADERS,
  };
  // The cursor is the page's last id, also if that device was deleted meanwhile.
  const last = pageIds[pageIds.length - 1];
  if (rest.length > limit && last !== undefined) {
    const next = new URLSearchParams({ limit: String(limit), after: last });
    if (query.fields !== undefined) next.set('fields', query.fields);
    headers['X-Next-After'] = last;
    headers['Link'] = `</api/v2/devices?${next.toString()}>; rel="next"`;
  }
  return { body: project(page), headers };
}
