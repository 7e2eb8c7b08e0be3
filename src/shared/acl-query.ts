/**
 * The named queries of a device ACL (`data_read` / `data_write`, PROTOCOL.md 5 and 8), shared by
 * every executor: `DB.Store` and the spool drain (device side), `/devices/:id/data/:name` and the
 * customer form `/api/v2/m/device/data/:name` (REST side).
 *
 * `DEVICE_ID` and `CUSTOMER_ID` are replaced textually, as mDash does: the stored queries quote them
 * themselves (`WHERE device_id='DEVICE_ID'`). That is only safe because ids are limited to
 * `[A-Za-z0-9_.-]`, so a replacement can never leave its quotes; an id outside that set is refused
 * here rather than spliced. `?` parameters are bound by the executor, never spliced.
 */
import type { DeviceAcl } from './types';

export type AclQueryKind = 'data_read' | 'data_write';

/** Ids that may be spliced into SQL text (PROTOCOL.md 5). */
const SAFE_ID = /^[A-Za-z0-9_.-]*$/;

export class UnsafeIdError extends Error {
  constructor(readonly id: string) {
    super(
      `id ${JSON.stringify(id)} may not be spliced into a query: only [A-Za-z0-9_.-] is allowed`,
    );
  }
}

export interface QueryIds {
  deviceId: string;
  /** The customer making the call; '' when there is none (a device or the master key). */
  customerId?: string;
}

/** The ACL's query `name` of `kind`, or null when the ACL has none by that name. */
export function aclQueryText(acl: DeviceAcl, kind: AclQueryKind, name: string): string | null {
  const table = acl[kind];
  if (table === undefined || table === null || typeof table !== 'object') return null;
  // Own properties only: `toString` or `__proto__` are not query names.
  if (!Object.prototype.hasOwnProperty.call(table, name)) return null;
  const text = (table as Record<string, unknown>)[name];
  return typeof text === 'string' ? text : null;
}

/** `query` with `DEVICE_ID` and `CUSTOMER_ID` replaced by the ids (all occurrences). */
export function substituteIds(query: string, ids: QueryIds): string {
  const customerId = ids.customerId ?? '';
  for (const id of [ids.deviceId, customerId]) {
    if (!SAFE_ID.test(id)) throw new UnsafeIdError(id);
  }
  return query.replaceAll('DEVICE_ID', ids.deviceId).replaceAll('CUSTOMER_ID', customerId);
}

/** The ready-to-prepare text of the ACL query `name`, or null when there is none. */
export function resolveAclQuery(
  acl: DeviceAcl,
  kind: AclQueryKind,
  name: string,
  ids: QueryIds,
): string | null {
  const text = aclQueryText(acl, kind, name);
  return text === null ? null : substituteIds(text, ids);
}
