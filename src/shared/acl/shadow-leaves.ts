/**
 * Shadow documents seen leaf by leaf (PROTOCOL.md 8): every leaf is a dotted path with a leading
 * dot rooted at the document (`.state.reported.online`, `.tags.labels`). Arrays, scalars, null and
 * empty objects are leaves; only non-empty objects are walked into.
 */
import type { PathTest } from './acl-patterns';

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every leaf path of `doc` under `prefix`, in document order. */
export function leafPaths(doc: unknown, prefix = ''): string[] {
  const out: string[] = [];
  walk(doc, prefix, (path) => void out.push(path));
  return out;
}

function walk(value: unknown, path: string, leaf: (path: string, value: unknown) => void): void {
  if (!isObject(value)) {
    leaf(path, value);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length === 0 && path !== '') {
    leaf(path, value);
    return;
  }
  for (const k of keys) walk(value[k], `${path}.${k}`, leaf);
}

/**
 * The leaves of `doc` whose paths `allowed` accepts, rebuilt into objects (a subtree with no
 * readable leaf disappears). `prefix` roots the paths (`.state.delta` for a delta alone).
 */
export function filterLeaves(doc: unknown, allowed: PathTest, prefix = ''): Obj {
  if (!isObject(doc)) return {};
  const out: Obj = {};
  for (const [k, v] of Object.entries(doc)) {
    const path = `${prefix}.${k}`;
    if (isObject(v) && Object.keys(v).length > 0) {
      const sub = filterLeaves(v, allowed, path);
      if (Object.keys(sub).length > 0) out[k] = sub;
    } else if (allowed(path)) {
      out[k] = v;
    }
  }
  return out;
}

/**
 * The leaf paths of a posted shadow write that `allowed` refuses; empty when the whole write may
 * go through (writes are all or nothing).
 */
export function deniedLeaves(write: unknown, allowed: PathTest, prefix = ''): string[] {
  const denied: string[] = [];
  if (!isObject(write)) return [prefix === '' ? '.' : prefix];
  walk(write, prefix, (path) => {
    if (!allowed(path)) denied.push(path);
  });
  return denied;
}
