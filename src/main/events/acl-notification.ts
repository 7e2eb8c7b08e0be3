/**
 * A notification as a holder of the device's public key may see it (PROTOCOL.md 7, 8), on
 * `/api/v2/m/device/notify`. Pure.
 *
 * - A device object (`created`, `updated`, anything with a `shadow` field) loses `token` and `acl`;
 *   its `shadow` keeps only the leaves `shadow_read` matches.
 * - Shadow traffic on the device socket (`rpc.out.Shadow.Update`, `rpc.in.Shadow.Delta`, ...) is
 *   filtered the same way: an update is a shadow document; a delta's `state` sits at `.state.delta`.
 * - Other calls (`rpc.in.<m>`, `rpc.out.<m>`: console lines, data, ...) reach the stream only when
 *   the ACL `rpc` globs allow method `m`.
 * - Everything else (`online`, `offline`, `deleted`, `ota.*`, ...) passes as published.
 */
import type { Published } from './notification-bus';
import type { CompiledAcl } from '../../shared/acl/device-acl';
import { readableShadow } from '../../shared/acl/device-acl';
import { filterLeaves } from '../../shared/acl/shadow-leaves';
import type { Json } from '../../shared/types';

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const CALL_PREFIXES = ['rpc.in.', 'rpc.out.'];

/** The frame text for this subscriber, or null when it may not see this notification at all. */
export function aclNotificationText(p: Published, acl: CompiledAcl): string | null {
  const { n } = p;
  const prefix = CALL_PREFIXES.find((x) => n.name.startsWith(x));
  let data: unknown = n.data;
  if (prefix !== undefined) {
    const method = n.name.slice(prefix.length);
    if (method === 'Shadow.Delta') data = filteredDelta(data, acl);
    else if (method.startsWith('Shadow.')) data = isObject(data) ? readableShadow(acl, data) : data;
    else if (!acl.canCall(method)) return null;
    else return p.text;
  } else if (isObject(data) && 'shadow' in data) {
    const { token: _password, acl: _acl, shadow, ...rest } = data;
    data = { ...rest, shadow: readableShadow(acl, shadow) };
  } else {
    return p.text;
  }
  return JSON.stringify({ name: n.name, id: n.id, data: data as Json });
}

/** `Shadow.Delta` params `{state:<delta>,version,timestamp}`: the delta is `.state.delta` of the shadow. */
function filteredDelta(data: unknown, acl: CompiledAcl): unknown {
  if (!isObject(data)) return data;
  const { state, ...rest } = data;
  return {
    ...filterLeaves(rest, acl.canRead),
    state: filterLeaves(state, acl.canRead, '.state.delta'),
  };
}
