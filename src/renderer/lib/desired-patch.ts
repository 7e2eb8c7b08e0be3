/**
 * Shadow updates deep-merge and delete keys set to null (PROTOCOL.md 3), so sending the edited
 * desired object as-is would never remove a key the user deleted in the editor. This turns
 * "before" and "after" into the update that makes the stored desired equal to "after": removed
 * keys become null, nested objects recurse, arrays and scalars are sent whole.
 */
import type { JsonObject } from '../../shared/types';
import { isJsonObject } from './json-text';

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function desiredPatch(before: JsonObject, after: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(before)) {
    if (!(key in after)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    const old = before[key];
    if (isJsonObject(value) && isJsonObject(old)) {
      const inner = desiredPatch(old, value);
      // An unchanged subtree need not be sent.
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (!sameJson(old, value)) {
      // A null typed by the user deletes too; that matches what the hub would do with it.
      patch[key] = value;
    }
  }
  return patch;
}
