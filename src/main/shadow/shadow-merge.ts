/**
 * Shadow update merge (PROTOCOL.md 3): updates deep-merge into `state.desired`,
 * `state.reported` and `tags`; a key set to `null` is deleted; empty objects left behind are
 * removed. This is JSON Merge Patch (RFC 7386) plus pruning of empty objects.
 */
import type { JsonObject } from '../../shared/types';
import { cloneJson, getOwn, isJsonObject, setOwn } from './json-value';

/**
 * Returns a new object: `patch` merged into `target`. Nested objects merge recursively; arrays
 * and scalars replace whole; `null` deletes the key. Any object that ends up empty after the
 * merge is removed from its parent, whether deletions emptied it or the patch wrote `{}`: an
 * empty object carries no leaf, and keeping it would only produce a change (a version bump)
 * that no reader can observe. The result shares no structure with the inputs, which are never
 * mutated.
 */
export function mergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const out = cloneJson(target);
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue; // not JSON; only reachable from code, never from the wire
    if (value === null) {
      delete out[key];
      continue;
    }
    if (isJsonObject(value)) {
      const current = getOwn(out, key);
      // An object patch over a scalar or array replaces it, but still through the merge so
      // that nulls inside the patch are dropped instead of stored.
      const merged = mergePatch(isJsonObject(current) ? current : {}, value);
      if (Object.keys(merged).length === 0) delete out[key];
      else setOwn(out, key, merged);
      continue;
    }
    setOwn(out, key, cloneJson(value));
  }
  return out;
}
