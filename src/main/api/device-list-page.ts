/**
 * `GET /api/v2/devices` with its opt-in query (README "Device list"): a `fields` projection and
 * cursor paging. Pure: takes the devices and the validated query, returns the body and headers.
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

export interface DeviceListPage {
  body: DeviceObject[] | JsonObject[];
  headers: Record<string, string>;
}

/** Headers a browser on another origin may read (CORS hides all but a few by default). */
const PAGING_HEADERS = 'Link, X-Next-After, X-Total-Count';

export function deviceListPage(all: DeviceObject[], query: DeviceListQuery): DeviceListPage {
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
    return { body: project(all), headers: {} };
  }

  // Pages are in id order (a stable order that inserts and deletes elsewhere cannot shift), and
  // `after` is the last id of the previous page: it need not exist any more.
  const limit = Number(query.limit);
  if (limit > MAX_DEVICE_PAGE) {
    throw new HubError('validation_failed', `limit: at most ${MAX_DEVICE_PAGE} devices per page`);
  }
  const sorted = [...all].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const after = query.after;
  const start = after === undefined ? 0 : sorted.findIndex((d) => d.id > after);
  const rest = start === -1 ? [] : sorted.slice(start);
  const page = rest.slice(0, limit);
  const headers: Record<string, string> = {
    'X-Total-Count': String(all.length),
    'Access-Control-Expose-Headers': PAGING_HEADERS,
  };
  const last = page[page.length - 1];
  if (rest.length > limit && last) {
    const next = new URLSearchParams({ limit: String(limit), after: last.id });
    if (query.fields !== undefined) next.set('fields', query.fields);
    headers['X-Next-After'] = last.id;
    headers['Link'] = `</api/v2/devices?${next.toString()}>; rel="next"`;
  }
  return { body: project(page), headers };
}
