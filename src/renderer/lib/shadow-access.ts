/**
 * The ACL tab's live preview (PROTOCOL.md 8): every leaf of the device's current shadow as the hub
 * sees it (dotted path, leading dot) with whether a customer holding the device's public key may
 * read it and may write it. Leaf paths, matching and pattern checks are the hub's own core
 * (src/shared/acl/), so the preview shows exactly what `/api/v2/m/device` will do.
 *
 * A customer app writes a reported value through its desired twin (`.state.reported.on` is set by
 * writing `.state.desired.on`), so a reported leaf also says whether that twin is writable.
 */
import { aclPatternErrors, type PatternError } from '../../shared/acl/acl-patterns';
import { compileAcl } from '../../shared/acl/device-acl';
import { filterLeaves, leafPaths } from '../../shared/acl/shadow-leaves';

export interface LeafAccess {
  path: string;
  value: unknown;
  read: boolean;
  /** The leaf itself matches `shadow_write`. */
  write: boolean;
  /** For `.state.reported.X`: the path `.state.desired.X` when it matches `shadow_write`. */
  writeVia: string | null;
}

export interface ShadowAccess {
  leaves: LeafAccess[];
  /** The patterns the hub would refuse on save (400), with RE2's reason. */
  problems: PatternError[];
  /** No public key: customer access is off whatever the patterns say. */
  off: boolean;
}

/** The value at one leaf path (the core's own rebuild, so keys holding dots resolve too). */
function leafValue(doc: unknown, path: string): unknown {
  let v: unknown = filterLeaves(doc, (p) => p === path);
  while (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length !== 1) break;
    v = (v as Record<string, unknown>)[keys[0] as string];
  }
  return v;
}

export function shadowAccess(
  shadow: unknown,
  acl: { public_key?: unknown; shadow_read?: unknown; shadow_write?: unknown },
): ShadowAccess {
  const compiled = compileAcl(acl);
  const leaves = leafPaths(shadow).map((path): LeafAccess => {
    const twin = /^\.state\.reported(\..+)$/.exec(path)?.[1];
    const desired = twin !== undefined ? `.state.desired${twin}` : null;
    return {
      path,
      value: leafValue(shadow, path),
      read: compiled.canRead(path),
      write: compiled.canWrite(path),
      writeVia: desired !== null && compiled.canWrite(desired) ? desired : null,
    };
  });
  const key = acl.public_key;
  return {
    leaves,
    problems: aclPatternErrors(acl),
    off: typeof key !== 'string' || key === '',
  };
}
