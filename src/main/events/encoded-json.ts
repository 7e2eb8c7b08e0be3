/**
 * JSON text computed once and reused. An `OTA.Write` chunk is 2.7 KB of base64 that used to be
 * JSON-encoded four times (the frame, the `rpc.in.OTA.Write` notification for subscribers, its
 * log row, the frame again for the next subscriber): a quarter of the hub's time and most of its
 * garbage with 100 transfers (bench/RESULTS.md). A caller that already has the JSON text of a
 * value (the OTA runner builds `{"offset":n,"data":"<base64>"}` by concatenation: base64 needs no
 * escaping) attaches it here; the device session, the bus and the log reuse it.
 *
 * A WeakMap rather than a property on the value: the value stays a plain JSON object for every
 * other consumer (tests compare it, subscribers read it), and the text goes with it to the GC.
 */
import type { Json } from '../../shared/types';

const encoded = new WeakMap<object, string>();

/** Records that `json` is exactly `JSON.stringify(value)`; returns `value`. */
export function withJson<T extends object>(value: T, json: string): T {
  encoded.set(value, json);
  return value;
}

/** The attached JSON text of `value`, if any. */
export function attachedJson(value: Json | undefined): string | undefined {
  return value !== null && typeof value === 'object' ? encoded.get(value) : undefined;
}

/** `JSON.stringify(value ?? null)`, reusing attached text. */
export function jsonOf(value: Json | undefined): string {
  return attachedJson(value) ?? JSON.stringify(value ?? null);
}
