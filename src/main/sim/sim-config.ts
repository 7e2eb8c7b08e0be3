/**
 * The simulated device's nested configuration, as Mongoose OS keeps it (`Config.Get/Set/Save`,
 * PROTOCOL.md 2): a running copy that `Config.Set` changes and a saved copy that survives a
 * reboot. Unsaved changes are lost on reboot, exactly like `mos config-set` without save.
 * Also holds the deep-merge used to apply a shadow delta to the device's local state.
 */
import type { Json, JsonObject } from '../../shared/types';

import { isJsonObject as isObject } from '../shadow/json-value';

/** A JSON object (not null, not an array); the shadow core's own test. */
export { isObject };

export function cloneJson<T extends Json>(v: T): T {
  return structuredClone(v);
}

/**
 * Merges `patch` into `target` in place: objects merge recursively, anything else replaces,
 * and `null` deletes the key (PROTOCOL.md 3 null-delete, which devices mirror locally).
 */
export function mergeInto(target: JsonObject, patch: JsonObject): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
      continue;
    }
    const current = target[key];
    if (isObject(value) && isObject(current)) {
      mergeInto(current, value);
    } else {
      target[key] = cloneJson(value);
    }
  }
}

/** The subtree at a dotted key (`wifi.sta.ssid`), or undefined when any part is missing. */
export function getAtKey(root: JsonObject, key: string): Json | undefined {
  let node: Json | undefined = root;
  for (const part of key.split('.')) {
    if (!isObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** The one-key patch that sets a dotted key: `a.b` = 1 -> `{"a":{"b":1}}`. */
export function patchForKey(key: string, value: Json): JsonObject {
  const parts = key.split('.');
  let patch: Json = value;
  for (let i = parts.length - 1; i >= 0; i--) patch = { [parts[i] ?? '']: patch };
  return patch as JsonObject;
}

export class SimConfig {
  private running: JsonObject;
  private saved: JsonObject;

  constructor(initial: JsonObject) {
    this.saved = cloneJson(initial);
    this.running = cloneJson(initial);
  }

  /** The whole running config, or the subtree at a dotted key. */
  get(key?: string): Json | undefined {
    if (key === undefined || key === '') return cloneJson(this.running);
    const v = getAtKey(this.running, key);
    return v === undefined ? undefined : cloneJson(v);
  }

  set(patch: JsonObject): void {
    mergeInto(this.running, patch);
  }

  save(): void {
    this.saved = cloneJson(this.running);
  }

  /** What a reboot does: the running config is reloaded from flash. */
  reload(): void {
    this.running = cloneJson(this.saved);
  }

  get savedCopy(): JsonObject {
    return cloneJson(this.saved);
  }
}
