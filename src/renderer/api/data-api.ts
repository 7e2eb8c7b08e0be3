/**
 * The dashboard's client for the account database (PROTOCOL.md 4 `/sql/exec`, `/sql/db`,
 * `/devices/:id/data/:name`) and for saving a device's ACL. Like the other api/ modules it is the
 * only place the Data pages do I/O; answers are checked (lib/sql-result.ts) and failures are
 * ApiErrors with the hub's catalog code, shown inline where the query was run.
 */
import type { DeviceAcl, DeviceObject, Json } from '../../shared/types';
import { readSqlResult, type SqlResult } from '../lib/sql-result';
import { ApiError } from './api-error';
import { hubJsonCaller, type HubClientOptions } from './hub-answer';
import { readDevice } from './schemas';

/** Longer than the hub's own SQL deadline, so the hub's coded timeout is what the user sees. */
export const SQL_TIMEOUT_MS = 120_000;

export interface DataApi {
  exec(query: string, params?: Json[]): Promise<SqlResult>;
  /** Runs the device ACL's `data_read[name]` (master key). */
  dataRead(device: string, name: string, params: Json[]): Promise<SqlResult>;
  /** `POST /devices/:id {"acl"}`: the whole ACL object, other fields kept by the caller. */
  saveAcl(device: string, acl: DeviceAcl): Promise<DeviceObject>;
  /**
   * The snapshot download as a plain link (key as `access_token`, PROTOCOL.md 4): the browser
   * streams the file to disk itself, so a large database never sits in the page's memory.
   */
  dbUrl(): string;
}

export type DataApiOptions = HubClientOptions;

export function createDataApi(o: DataApiOptions): DataApi {
  const base = o.baseUrl.replace(/\/+$/, '');
  const enc = encodeURIComponent;
  const request = hubJsonCaller(o, SQL_TIMEOUT_MS);

  const result = (value: unknown): SqlResult => {
    const r = readSqlResult(value);
    if (!r) throw new ApiError(0, 200, 'the hub sent an unexpected query result');
    return r;
  };

  return {
    async exec(query, params) {
      return result(
        await request('POST', '/sql/exec', params === undefined ? { query } : { query, params }),
      );
    },
    async dataRead(device, name, params) {
      return result(await request('POST', `/devices/${enc(device)}/data/${enc(name)}`, { params }));
    },
    async saveAcl(device, acl) {
      const d = readDevice(
        await request('POST', `/devices/${enc(device)}`, { acl: acl as unknown as Json }),
      );
      if (!d) throw new ApiError(0, 200, 'the hub sent an unexpected device object');
      return d;
    },
    dbUrl: () => `${base}/api/v2/sql/db?access_token=${enc(o.key)}`,
  };
}
