/**
 * Classifies one text frame from a device (PROTOCOL.md 2). Pure and total: any input gives a
 * value, never an exception, so one bad frame can never take a session (or the hub) down. Junk
 * carries a reason for the gateway to count and log; it is never answered, because answering
 * a reply or an error can loop between two peers.
 */
import type { Json } from '../../shared/types';

export type RpcId = number | string;

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: Json;
}

export type JunkReason =
  | 'too_large'
  | 'invalid_utf8'
  | 'invalid_json'
  | 'not_object'
  | 'bad_types'
  | 'idless_error'
  | 'unclassified';

export type DecodedFrame =
  | { kind: 'request'; id: RpcId; method: string; params: Json | undefined; tag?: Json }
  | { kind: 'notification'; method: string; params: Json | undefined; tag?: Json }
  | { kind: 'reply'; id: RpcId; result?: Json; error?: RpcErrorObject; tag?: Json }
  | { kind: 'junk'; reason: JunkReason; detail: string };

/** Code given to a device error whose shape is not `{code:number,message:string}`. */
export const NONSTANDARD_ERROR_CODE = -32000;

/** Junk details go to logs; never copy a large frame into one. */
const MAX_DETAIL_CHARS = 200;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The one exception to the message limit (PROTOCOL.md 2): a reply to a call the hub itself made
 * (an FS.Get chunk, say) may be up to `maxReplyBytes`. Anything else over `maxBytes` stays junk.
 */
export interface LargeReplies {
  /** Config `limits.maxReplyBytes` (default 64 KB). */
  maxReplyBytes: number;
  /** True when `id` is one of our calls still waiting for its reply. */
  isPending: (id: RpcId) => boolean;
}

export function decodeDeviceFrame(
  raw: string | Buffer,
  maxBytes: number,
  largeReplies?: LargeReplies,
): DecodedFrame {
  try {
    return decode(raw, maxBytes, largeReplies);
  } catch (e) {
    // Unreachable for strings and Buffers; kept so that a caller handing us something else
    // (an ArrayBuffer, a fragment list) still gets a counted drop, not a thrown error.
    return junk('unclassified', `cannot decode frame: ${describeError(e)}`);
  }
}

function decode(raw: string | Buffer, maxBytes: number, large?: LargeReplies): DecodedFrame {
  // Size first, before any parsing work (PROTOCOL.md 2: > 8 KB is dropped). Only a frame that
  // could be a large reply to one of our calls is parsed past the limit, and never past
  // maxReplyBytes: the parse is bounded, and anything but such a reply is junk all the same.
  const size = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
  if (size <= maxBytes) return classify(raw);
  const tooLarge = (limit: number): DecodedFrame =>
    junk('too_large', `frame of ${size} bytes exceeds ${limit}`);
  if (large === undefined || large.maxReplyBytes <= maxBytes) return tooLarge(maxBytes);
  if (size > large.maxReplyBytes) return tooLarge(large.maxReplyBytes);
  const frame = classify(raw);
  return frame.kind === 'reply' && large.isPending(frame.id) ? frame : tooLarge(maxBytes);
}

function classify(raw: string | Buffer): DecodedFrame {
  let text: string;
  if (typeof raw === 'string') {
    text = raw;
  } else {
    try {
      text = utf8.decode(raw);
    } catch {
      // The socket skips ws's own check, which would close the session (1007): a bad frame is
      // dropped and counted like any other (PROTOCOL.md 2).
      return junk('invalid_utf8', 'frame is not valid UTF-8');
    }
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return junk('invalid_json', describeError(e));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    return junk('not_object', `frame is ${what}, not an object`);
  }
  const frame = value as Record<string, Json>;
  // Object.hasOwn written out at each use, and `tag` set on the built frame: a closure and a
  // spread object per frame were a measurable share of an OTA's 512 replies (issue 8).

  // `src`, `dst`, `key` and `jsonrpc` are never read: identity is the authenticated socket and
  // firmware does not send `"jsonrpc":"2.0"` (PROTOCOL.md 2).
  const hasMethod = Object.hasOwn(frame, 'method');
  const method = frame['method'];
  if (hasMethod && (typeof method !== 'string' || method === '')) {
    return junk('bad_types', `method must be a non-empty string, got ${typeName(method)}`);
  }
  const hasId = Object.hasOwn(frame, 'id');
  const id = frame['id'];
  if (hasId && !isRpcId(id)) {
    return junk('bad_types', `id must be a finite number or a string, got ${typeName(id)}`);
  }
  const hasTag = Object.hasOwn(frame, 'tag');

  if (hasMethod && typeof method === 'string') {
    const params = Object.hasOwn(frame, 'params') ? frame['params'] : undefined;
    const out: DecodedFrame =
      hasId && isRpcId(id)
        ? { kind: 'request', id, method, params }
        : { kind: 'notification', method, params };
    if (hasTag) out.tag = frame['tag'];
    return out;
  }

  const hasError = Object.hasOwn(frame, 'error');
  if (hasId && isRpcId(id)) {
    const error = frame['error'];
    let out: DecodedFrame;
    if (hasError && error !== null && error !== undefined) {
      out = { kind: 'reply', id, error: normaliseError(error) };
    } else if (Object.hasOwn(frame, 'result') || hasError) {
      // `"error": null` next to (or instead of) a result is how some JSON-RPC peers say
      // "success"; without a result the reply resolves to null rather than being dropped and
      // leaving our call to time out.
      const result = Object.hasOwn(frame, 'result') ? frame['result'] : null;
      out = { kind: 'reply', id, result: result === undefined ? null : result };
    } else {
      return junk('unclassified', 'frame has an id but no method, result or error');
    }
    if (hasTag) out.tag = frame['tag'];
    return out;
  }
  if (hasError) {
    // The Arduino library sends these for frames it does not like (PROTOCOL.md 2).
    return junk('idless_error', `error frame without id: ${clip(safeStringify(frame['error']))}`);
  }
  return junk(
    'unclassified',
    `frame has neither method nor id (keys: ${clip(Object.keys(frame).join(', '))})`,
  );
}

function isRpcId(v: unknown): v is RpcId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** A device error in any shape becomes `{code, message}`; the reply is never rejected for it. */
function normaliseError(error: Json): RpcErrorObject {
  if (typeof error === 'object' && error !== null && !Array.isArray(error)) {
    const code = Object.hasOwn(error, 'code') ? error['code'] : undefined;
    const message = Object.hasOwn(error, 'message') ? error['message'] : undefined;
    if (typeof code === 'number' && Number.isFinite(code) && typeof message === 'string') {
      const out: RpcErrorObject = { code, message };
      if (Object.hasOwn(error, 'data') && error['data'] !== undefined) out.data = error['data'];
      return out;
    }
    const text = typeof message === 'string' ? message : safeStringify(error);
    return { code: NONSTANDARD_ERROR_CODE, message: text, data: error };
  }
  if (typeof error === 'string') return { code: NONSTANDARD_ERROR_CODE, message: error };
  return { code: NONSTANDARD_ERROR_CODE, message: String(error), data: error };
}

function junk(reason: JunkReason, detail: string): DecodedFrame {
  return { kind: 'junk', reason, detail: clip(detail) };
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function clip(s: string): string {
  return s.length > MAX_DETAIL_CHARS ? `${s.slice(0, MAX_DETAIL_CHARS)}…` : s;
}
