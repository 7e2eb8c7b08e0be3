/**
 * A device ACL compiled once for its checks (PROTOCOL.md 8): what a holder of the device's public
 * key may read and write of its shadow and which methods they may call. Pure: the hub enforces
 * with it and the dashboard previews with it.
 */
import { globMatcher, regexMatcher, type PathTest } from './acl-patterns';
import { deniedLeaves, filterLeaves } from './shadow-leaves';

export interface AclFields {
  shadow_read?: unknown;
  shadow_write?: unknown;
  rpc?: unknown;
}

export interface CompiledAcl {
  canRead: PathTest;
  canWrite: PathTest;
  canCall: PathTest;
}

export function compileAcl(acl: AclFields): CompiledAcl {
  return {
    canRead: regexMatcher(acl.shadow_read),
    canWrite: regexMatcher(acl.shadow_write),
    canCall: globMatcher(acl.rpc),
  };
}

/** The shadow document as the key holder sees it: only the leaves `shadow_read` matches. */
export function readableShadow(acl: CompiledAcl, shadow: unknown): Record<string, unknown> {
  return filterLeaves(shadow, acl.canRead);
}

/** The leaves of a posted shadow that `shadow_write` refuses (none: the write may go through). */
export function unwritableLeaves(acl: CompiledAcl, write: unknown): string[] {
  return deniedLeaves(write, acl.canWrite);
}

/** Whether the key holder may call `method` (the `rpc` globs). */
export function rpcAllowed(acl: CompiledAcl, method: string): boolean {
  return acl.canCall(method);
}
