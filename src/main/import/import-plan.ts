/**
 * `fleetbench import` (issue 12) as pure decisions: for one source device or customer and what
 * the local hub has under the same id, the action that makes the local copy equal the source
 * (create, update with exactly the differing fields, nothing, or a conflict to report). No I/O:
 * import-devices.ts and import-customers.ts carry the actions out through the hub's REST API.
 *
 * Idempotency follows from comparing stored forms: after an import the local copy equals the
 * source in everything compared here, so a second run plans `unchanged` for all of it.
 */
import type { DeviceAcl, Json, JsonObject } from '../../shared/types';
import { normalizeEmail } from '../customers/email';
import { jsonEqual } from '../shadow/json-value';
import { shadowUpdate, type LooseShadow } from './shadow-diff';

/** A device as the source or the local hub lists it (PROTOCOL.md 4 device object). */
export interface PlanDevice {
  id: string;
  name?: string;
  token: string;
  acl?: DeviceAcl | null;
  shadow?: LooseShadow | null;
}

/** The body of `POST /devices/:id` after the device exists: only what differs. */
export interface DevicePatch {
  name?: string;
  acl?: DeviceAcl;
  shadow?: JsonObject;
}

export type DeviceAction =
  /** `POST /devices {id,name,token}`, then `patch` (ACL, shadow) when there is one. */
  | { kind: 'create'; id: string; name: string; token: string; patch: DevicePatch | null }
  /** The local device has another password and `--overwrite`: delete it, then create. */
  | { kind: 'replace'; id: string; name: string; token: string; patch: DevicePatch | null }
  | { kind: 'update'; id: string; patch: DevicePatch; fields: string[] }
  | { kind: 'unchanged'; id: string }
  | { kind: 'conflict'; id: string; reason: string };

export interface PlanOptions {
  /** Replace a local device (or customer) whose password (key) differs from the source's. */
  overwrite: boolean;
}

const nameOf = (d: PlanDevice): string => (d.name === undefined || d.name === '' ? d.id : d.name);
const aclOf = (d: PlanDevice): DeviceAcl => d.acl ?? {};
// An ACL is a JSON object whose optional fields may be absent, never undefined on the wire.
const aclJson = (acl: DeviceAcl): Json => acl as unknown as JsonObject;
const isEmptyAcl = (acl: DeviceAcl): boolean => Object.keys(acl).length === 0;

/** What a freshly created device needs on top of `POST /devices`: its ACL and shadow. */
function patchForNew(source: PlanDevice): DevicePatch | null {
  const acl = aclOf(source);
  const shadow = shadowUpdate(null, source.shadow);
  const patch: DevicePatch = {
    ...(!isEmptyAcl(acl) && { acl }),
    ...(shadow !== null && { shadow }),
  };
  return Object.keys(patch).length === 0 ? null : patch;
}

export function planDevice(
  source: PlanDevice,
  local: PlanDevice | undefined,
  opts: PlanOptions,
): DeviceAction {
  const { id } = source;
  const fresh = { id, name: nameOf(source), token: source.token, patch: patchForNew(source) };
  if (local === undefined) return { kind: 'create', ...fresh };
  if (local.token !== source.token) {
    // The password is what the device logs in with (PROTOCOL.md 1): the local one may be a
    // different device that happens to share the id. Never replaced silently.
    if (opts.overwrite) return { kind: 'replace', ...fresh };
    return {
      kind: 'conflict',
      id,
      reason: 'a local device has this id with another password (--overwrite replaces it)',
    };
  }
  const patch: DevicePatch = {};
  const fields: string[] = [];
  if (nameOf(local) !== nameOf(source)) {
    patch.name = nameOf(source);
    fields.push('name');
  }
  if (!jsonEqual(aclJson(aclOf(local)), aclJson(aclOf(source)))) {
    patch.acl = aclOf(source);
    fields.push('acl');
  }
  const shadow = shadowUpdate(local.shadow, source.shadow);
  if (shadow !== null) {
    patch.shadow = shadow;
    fields.push('shadow');
  }
  return fields.length === 0 ? { kind: 'unchanged', id } : { kind: 'update', id, patch, fields };
}

// --- customers ----------------------------------------------------------------------------------

/** A customer as `GET /api/v2/customers` lists it (PROTOCOL.md 4); never a password. */
export interface PlanCustomer {
  id: string;
  email: string;
  app_id?: string;
  /** mdash.net may leave it out; then the local customer gets a fresh key. */
  token?: string;
  pubkeys?: Record<string, JsonObject>;
  cconfig?: Json;
}

/** `POST /api/v2/customers/:id` body; `token` only when creating (the hub ignores it otherwise). */
export interface CustomerBody {
  email?: string;
  app_id?: string;
  pubkeys?: Record<string, JsonObject>;
  cconfig?: Json;
  token?: string;
}

export type CustomerAction =
  | { kind: 'create'; id: string; body: CustomerBody }
  | { kind: 'replace'; id: string; body: CustomerBody }
  | { kind: 'update'; id: string; body: CustomerBody; fields: string[] }
  | { kind: 'unchanged'; id: string }
  | { kind: 'conflict'; id: string; reason: string };

/**
 * An email as the hub stores and compares it (customers/email.ts `normalizeEmail`: trimmed, lower
 * case), so an import matches customers exactly as the REST API would. A source's implausible
 * address is still trimmed and lowercased, so it compares too (the hub refuses it on write).
 */
export function emailKey(email: string): string {
  return normalizeEmail(email) ?? email.trim().toLowerCase();
}

const sameEmail = (a: string, b: string): boolean => emailKey(a) === emailKey(b);

function fullBody(c: PlanCustomer): CustomerBody {
  return {
    email: c.email,
    ...(c.app_id !== undefined && { app_id: c.app_id }),
    ...(c.pubkeys !== undefined && { pubkeys: c.pubkeys }),
    ...(c.cconfig !== undefined && { cconfig: c.cconfig }),
    ...(c.token !== undefined && { token: c.token }),
  };
}

/**
 * `local`: the local customer with the same id; `emailOwner`: the id of the local customer that
 * has the source's email, if any (emails are unique on a hub).
 */
export function planCustomer(
  source: PlanCustomer,
  local: PlanCustomer | undefined,
  emailOwner: string | undefined,
  opts: PlanOptions,
): CustomerAction {
  const { id } = source;
  if (emailOwner !== undefined && emailOwner !== id) {
    return {
      kind: 'conflict',
      id,
      reason: `the local customer '${emailOwner}' has this email`,
    };
  }
  if (local === undefined) return { kind: 'create', id, body: fullBody(source) };
  if (source.token !== undefined && local.token !== source.token) {
    if (opts.overwrite) return { kind: 'replace', id, body: fullBody(source) };
    return {
      kind: 'conflict',
      id,
      reason: 'a local customer has this id with another key (--overwrite replaces it)',
    };
  }
  const body: CustomerBody = {};
  const fields: string[] = [];
  if (!sameEmail(local.email, source.email)) {
    body.email = source.email;
    fields.push('email');
  }
  if (source.app_id !== undefined && (local.app_id ?? '') !== source.app_id) {
    body.app_id = source.app_id;
    fields.push('app_id');
  }
  if (source.pubkeys !== undefined && !jsonEqual(local.pubkeys ?? {}, source.pubkeys)) {
    body.pubkeys = source.pubkeys;
    fields.push('pubkeys');
  }
  if (source.cconfig !== undefined && !jsonEqual(local.cconfig ?? {}, source.cconfig)) {
    body.cconfig = source.cconfig;
    fields.push('cconfig');
  }
  return fields.length === 0 ? { kind: 'unchanged', id } : { kind: 'update', id, body, fields };
}
