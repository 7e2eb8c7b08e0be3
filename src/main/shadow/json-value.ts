/**
 * Small helpers over JSON values shared by the shadow cores (PROTOCOL.md 3). Shadow documents
 * hold data parsed from untrusted JSON, so every write goes through `setOwn` and every read
 * checks `Object.hasOwn`: a key named `__proto__` must stay an ordinary key, never reach or
 * replace an object's prototype.
 */
import type { Json, JsonObject } from '../../shared/types';

/** A JSON object: not null, not an array. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Defines an own, enumerable data property. Plain assignment does exactly that on a plain object
 * for every key but `__proto__` (Object.prototype's only accessor), and costs a fraction of
 * `Object.defineProperty`, which every shadow write called once per key copied (issue 11).
 */
export function setOwn(obj: JsonObject, key: string, value: Json): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

/** The value stored under an own key, or undefined (never an inherited member). */
export function getOwn(obj: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** A deep copy, so results never share mutable structure with their inputs. */
export function cloneJson<T extends Json>(v: T): T;
export function cloneJson(v: Json): Json {
  if (Array.isArray(v)) return v.map((x) => cloneJson(x));
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (x !== undefined) setOwn(out, k, cloneJson(x));
    }
    return out;
  }
  return v;
}

/** Deep equality of JSON values; object key order does not matter. */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Nesting depth (a scalar is 0, `{}` and `[]` are 1), computed without recursion so that a
 * hostile, deeply nested body can be measured and refused before the recursive cores see it.
 * Stops counting once `limit` is exceeded.
 */
export function jsonDepth(v: unknown, limit = Number.POSITIVE_INFINITY): number {
  let max = 0;
  const stack: Array<{ v: unknown; d: number }> = [{ v, d: 0 }];
  while (stack.length > 0) {
    const top = stack.pop();
    if (top === undefined) break;
    if (typeof top.v !== 'object' || top.v === null) continue;
    const d = top.d + 1;
    if (d > max) max = d;
    if (max > limit) return max;
    const children: unknown[] = Array.isArray(top.v) ? top.v : Object.values(top.v);
    for (const c of children) if (typeof c === 'object' && c !== null) stack.push({ v: c, d });
  }
  return max;
}
