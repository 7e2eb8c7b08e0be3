/**
 * Shadow delta (PROTOCOL.md 3): every leaf present in `desired` whose value differs from
 * `reported`, recursive into objects; arrays and scalars compare as whole values. The delta is
 * regenerated on every change and never written by clients.
 */
import type { JsonObject } from '../../shared/types';
import { cloneJson, getOwn, isJsonObject, jsonEqual, setOwn } from './json-value';

export function computeDelta(desired: JsonObject, reported: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, want] of Object.entries(desired)) {
    if (want === undefined) continue;
    const has = Object.hasOwn(reported, key);
    const have = getOwn(reported, key);
    if (isJsonObject(want)) {
      if (has && isJsonObject(have)) {
        const sub = computeDelta(want, have);
        if (Object.keys(sub).length > 0) setOwn(out, key, sub);
      } else if (Object.keys(want).length > 0) {
        // The device reports a scalar, an array or nothing where an object is desired: every
        // leaf below differs, so the whole desired subtree is the delta. (An empty desired
        // object has no leaves and so no delta.)
        setOwn(out, key, cloneJson(want));
      }
      continue;
    }
    if (!has || !jsonEqual(want, have)) setOwn(out, key, cloneJson(want));
  }
  return out;
}
