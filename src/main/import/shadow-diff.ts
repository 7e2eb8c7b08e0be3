/**
 * The shadow part of an import, as pure values: what a source shadow looks like once stored here,
 * and the one management shadow update (PROTOCOL.md 3, JSON Merge Patch with null-delete) that
 * turns the local shadow into it. Comparing stored forms is what makes a second import a no-op.
 */
import type { Json, JsonObject } from '../../shared/types';
import { HUB_OWNED_REPORTED_KEYS } from '../shadow/reserved-keys';
import { isJsonObject, jsonEqual } from '../shadow/json-value';
import { mergePatch } from '../shadow/shadow-merge';

/** The parts of a shadow a management write can set: `delta`, `version`, `timestamp` follow. */
export interface ShadowParts {
  desired: JsonObject;
  reported: JsonObject;
  tags: JsonObject;
}

/** A shadow as a source or the hub sends it; anything missing is empty. */
export interface LooseShadow {
  state?: { desired?: JsonObject | null; reported?: JsonObject | null } | null;
  tags?: JsonObject | null;
}

/**
 * The parts as this hub would store them: nulls dropped, empty objects pruned (shadow-merge.ts),
 * and without `reported.online` / `reported.ota`, which belong to the hub that holds the device's
 * session (PROTOCOL.md 3 "Reserved"): they come back when the device connects here.
 */
export function storedParts(shadow: LooseShadow | null | undefined): ShadowParts {
  const reported = mergePatch({}, shadow?.state?.reported ?? {});
  for (const key of HUB_OWNED_REPORTED_KEYS) delete reported[key];
  return {
    desired: mergePatch({}, shadow?.state?.desired ?? {}),
    reported,
    tags: mergePatch({}, shadow?.tags ?? {}),
  };
}

/**
 * The merge patch p with mergePatch(from, p) = to, for objects already in stored form; null when
 * they are equal. Keys only in `from` become null (delete), objects on both sides recurse, and
 * anything else that differs (scalars, arrays) is replaced whole.
 */
export function mergeDiff(from: JsonObject, to: JsonObject): JsonObject | null {
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) {
    if (!Object.prototype.hasOwnProperty.call(to, key)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    const old: Json | undefined = Object.prototype.hasOwnProperty.call(from, key)
      ? from[key]
      : undefined;
    if (isJsonObject(old) && isJsonObject(value)) {
      const inner = mergeDiff(old, value);
      if (inner !== null) patch[key] = inner;
    } else if (old === undefined || !jsonEqual(old, value)) {
      patch[key] = value;
    }
  }
  return Object.keys(patch).length === 0 ? null : patch;
}

/**
 * The management shadow update (`POST /devices/:id` `shadow`) that makes `local` equal `source`
 * in desired, reported (but the hub-owned keys) and tags; null when nothing differs. The local
 * `reported.online` / `ota` are never touched: the update does not name them.
 */
export function shadowUpdate(
  local: LooseShadow | null | undefined,
  source: LooseShadow | null | undefined,
): JsonObject | null {
  const from = storedParts(local);
  const to = storedParts(source);
  const desired = mergeDiff(from.desired, to.desired);
  const reported = mergeDiff(from.reported, to.reported);
  const tags = mergeDiff(from.tags, to.tags);
  if (desired === null && reported === null && tags === null) return null;
  const state: JsonObject = {
    ...(desired !== null && { desired }),
    ...(reported !== null && { reported }),
  };
  return {
    ...(Object.keys(state).length > 0 && { state }),
    ...(tags !== null && { tags }),
  };
}
