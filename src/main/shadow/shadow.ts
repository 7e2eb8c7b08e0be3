/**
 * The device shadow as a pure value (PROTOCOL.md 3): updates in, a new document or a coded
 * error out. No I/O and no clock: the caller passes the time and the size limit, and stores the
 * returned document only when `ok` is true. On every refusal the input document is untouched
 * (it is never mutated in any case), so "a bigger update is refused, the stored shadow
 * unchanged" holds by construction.
 */
import type { Json, JsonObject, ShadowDoc } from '../../shared/types';
import { HubError } from '../../shared/errors';
import { firstProblem } from '../validate';
import { cloneJson, jsonDepth, jsonEqual, setOwn } from './json-value';
import { mergePatch } from './shadow-merge';
import { computeDelta } from './shadow-delta';
import { MAX_SHADOW_DEPTH, ShadowUpdateSchema, type ShadowUpdate } from './shadow-schema';

export type ShadowResult =
  | {
      ok: true;
      doc: ShadowDoc;
      changed: boolean;
      desiredTouched: boolean;
      /**
       * `JSON.stringify(doc)` of a changed document, made for the size check: the registry row
       * and the `updated` notification reuse it (issue 11: the shadow was encoded three times).
       */
      json?: string;
    }
  | { ok: false; error: HubError };

export interface ShadowUpdateOptions {
  /** Unix seconds, stored as `timestamp` when the update changes something. */
  nowSec: number;
  /** Largest serialized document (config `limits.maxShadowBytes`, 8 KB). */
  maxBytes: number;
  /** Deepest nesting accepted in one part of an update; defaults to MAX_SHADOW_DEPTH. */
  maxDepth?: number;
}

/**
 * `state.reported` keys the hub owns (PROTOCOL.md 3 "Reserved"): `online` (PROTOCOL.md 1 steps 1
 * and "On close") and `ota` (the Sys.GetInfo result, step 3). The hub's own writes of them are
 * never refused for the document's size: a shadow at the 8 KB limit must still go offline, or
 * the hub could not even restart (issue 7 item 1). They stay bounded: `online` is a boolean and
 * the value of one hub-owned write may itself be at most `maxBytes`.
 */
export const HUB_OWNED_KEYS: readonly string[] = ['online', 'ota'];

const isHubOwned = (key: string): boolean => HUB_OWNED_KEYS.includes(key);

/** A fresh document: version 0, nothing desired, reported or tagged. */
export function emptyShadow(nowSec: number): ShadowDoc {
  return {
    state: { desired: {}, reported: {}, delta: {} },
    tags: {},
    version: 0,
    timestamp: nowSec,
  };
}

/** Serialized size in bytes, the measure of the 8 KB limit (PROTOCOL.md 3). */
export function shadowBytes(doc: ShadowDoc): number {
  return Buffer.byteLength(JSON.stringify(doc), 'utf8');
}

/**
 * Applies an update body from a client or device (`unknown` until the schema accepts it).
 * `version`, when present, must equal the current version (optimistic locking: 409 on REST, an
 * error reply on the device socket). A `null` for the whole `desired`, `reported` or `tags`
 * clears it. The version goes up by one only when desired, reported or tags really change.
 * `desiredTouched` tells the gateway whether to consider a `Shadow.Delta` call.
 */
export function applyShadowUpdate(
  doc: ShadowDoc,
  update: unknown,
  opts: ShadowUpdateOptions,
): ShadowResult {
  const problem = firstProblem(ShadowUpdateSchema, update);
  if (problem !== null) return fail(new HubError('validation_failed', problem));
  const u = update as ShadowUpdate;

  const maxDepth = opts.maxDepth ?? MAX_SHADOW_DEPTH;
  const parts: Array<[string, unknown]> = [
    ['state.desired', u.state?.desired],
    ['state.reported', u.state?.reported],
    ['tags', u.tags],
  ];
  for (const [where, part] of parts) {
    // Merge, delta and serialization recurse; a body nested thousands deep must be refused
    // here, as bad input, rather than overflow the stack there.
    if (jsonDepth(part, maxDepth) > maxDepth) {
      return fail(new HubError('validation_failed', `${where}: nested deeper than ${maxDepth}`));
    }
  }

  if (u.version !== undefined && u.version !== doc.version) {
    return fail(
      new HubError(
        'version_conflict',
        `version ${u.version} does not match current ${doc.version}`,
      ),
    );
  }

  const desiredTouched = u.state !== undefined && u.state.desired !== undefined;
  return commit(
    doc,
    {
      desired: applyPart(doc.state.desired, u.state?.desired),
      reported: applyPart(doc.state.reported, u.state?.reported),
      tags: applyPart(doc.tags, u.tags),
    },
    opts.nowSec,
    opts.maxBytes,
    desiredTouched,
  );
}

/**
 * Merges hub-owned fields (`online`, PROTOCOL.md 1 steps 1 and "On close") into
 * `state.reported`, with no version check: the hub is not racing a client for these. A patch of
 * hub-owned keys only (HUB_OWNED_KEYS) is not refused for the document's size.
 */
export function setReported(
  doc: ShadowDoc,
  patch: JsonObject,
  nowSec: number,
  maxBytes: number,
): ShadowResult {
  const hubOwned = Object.keys(patch).every(isHubOwned);
  if (hubOwned && jsonBytes(patch) > maxBytes) return tooLarge(jsonBytes(patch), maxBytes);
  return commit(
    doc,
    {
      desired: cloneJson(doc.state.desired),
      reported: mergePatch(doc.state.reported, patch),
      tags: cloneJson(doc.tags),
    },
    nowSec,
    hubOwned ? Infinity : maxBytes,
    false,
  );
}

/**
 * Replaces `state.reported[key]` whole instead of merging into it: PROTOCOL.md 1 step 3 stores
 * the Sys.GetInfo result as `reported.ota`, and fields the new firmware no longer reports must
 * disappear. The new value still passes through the merge rules, so nulls inside it are
 * dropped and empty objects pruned, like everything else stored in a shadow; `null` removes
 * the key. A hub-owned key (`ota`) is not refused for the document's size, only for a value
 * larger than `maxBytes` by itself.
 */
export function replaceReportedSubtree(
  doc: ShadowDoc,
  key: string,
  value: Json,
  nowSec: number,
  maxBytes: number,
): ShadowResult {
  const hubOwned = isHubOwned(key);
  if (hubOwned && jsonBytes(value) > maxBytes) return tooLarge(jsonBytes(value), maxBytes);
  const base = cloneJson(doc.state.reported);
  delete base[key];
  const patch: JsonObject = {};
  setOwn(patch, key, value);
  return commit(
    doc,
    {
      desired: cloneJson(doc.state.desired),
      reported: mergePatch(base, patch),
      tags: cloneJson(doc.tags),
    },
    nowSec,
    hubOwned ? Infinity : maxBytes,
    false,
  );
}

function applyPart(current: JsonObject, patch: JsonObject | null | undefined): JsonObject {
  if (patch === undefined) return cloneJson(current);
  if (patch === null) return {};
  return mergePatch(current, patch);
}

function commit(
  doc: ShadowDoc,
  next: { desired: JsonObject; reported: JsonObject; tags: JsonObject },
  nowSec: number,
  maxBytes: number,
  desiredTouched: boolean,
): ShadowResult {
  const same =
    jsonEqual(next.desired, doc.state.desired) &&
    jsonEqual(next.reported, doc.state.reported) &&
    jsonEqual(next.tags, doc.tags);
  // No change: same document, same version, same timestamp (PROTOCOL.md 3: the version counts
  // changes, not updates).
  if (same) return { ok: true, doc, changed: false, desiredTouched };

  const newDoc: ShadowDoc = {
    state: {
      desired: next.desired,
      reported: next.reported,
      delta: computeDelta(next.desired, next.reported),
    },
    tags: next.tags,
    version: doc.version + 1,
    timestamp: nowSec,
  };
  const json = JSON.stringify(newDoc);
  const bytes = Buffer.byteLength(json, 'utf8');
  // Only hub-owned writes can take a document past the limit; an update that does not make such
  // a document bigger is not refused for a size that it did not cause.
  if (bytes > maxBytes && bytes > shadowBytes(doc)) return tooLarge(bytes, maxBytes);
  return { ok: true, doc: newDoc, changed: true, desiredTouched, json };
}

function tooLarge(bytes: number, maxBytes: number): ShadowResult {
  return fail(
    new HubError('shadow_too_large', `shadow would be ${bytes} bytes, limit is ${maxBytes}`),
  );
}

function jsonBytes(value: Json): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

function fail(error: HubError): ShadowResult {
  return { ok: false, error };
}
