/**
 * The device side of the frame contract (PROTOCOL.md 2), as firmware speaks it: one JSON object
 * per text frame, no `jsonrpc` field, never a `dst`. Pure: text in, classified frame out; values
 * in, frame text out. The hub's own codec lives in src/main/rpc; this one is deliberately
 * separate so the simulator checks the hub instead of sharing its assumptions.
 */
import Type from 'typebox';
import type { Json } from '../../shared/types';
import { firstProblem } from '../validate';

/** A frame from the hub after classification. */
export type HubFrame =
  | { kind: 'call'; id: RpcId; method: string; params: unknown; tag: Json | undefined }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'reply'; id: RpcId; result: Json | undefined; error: RpcErrorBody | undefined }
  | { kind: 'bad'; reason: string };

export type RpcId = number | string;

export interface RpcErrorBody {
  code: number;
  message: string;
}

export type Outcome = { result: Json } | { error: RpcErrorBody };

const FrameSchema = Type.Object({
  id: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  method: Type.Optional(Type.String({ minLength: 1 })),
  params: Type.Optional(Type.Unknown()),
  tag: Type.Optional(Type.Unknown()),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.Number(), message: Type.Optional(Type.String()) })),
});

/**
 * Classifies a text frame. `src`, `dst` and `key` are ignored (PROTOCOL.md 2). A frame with
 * `method` is a call (with `id`) or a notification; `id` plus `result`/`error` is a reply;
 * anything else is bad and must be dropped without an answer (answering errors loops).
 */
export function parseHubFrame(text: string): HubFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'bad', reason: 'invalid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'bad', reason: 'frame is not a JSON object' };
  }
  const problem = firstProblem(FrameSchema, value);
  if (problem !== null) return { kind: 'bad', reason: problem };
  const f = value as Type.Static<typeof FrameSchema>;
  if (f.method !== undefined) {
    if (f.id === undefined) return { kind: 'notification', method: f.method, params: f.params };
    return { kind: 'call', id: f.id, method: f.method, params: f.params, tag: f.tag as Json };
  }
  if (f.id !== undefined && ('result' in f || f.error !== undefined)) {
    const error = f.error && { code: f.error.code, message: f.error.message ?? '' };
    return { kind: 'reply', id: f.id, result: f.result as Json | undefined, error };
  }
  return { kind: 'bad', reason: 'neither a request nor a reply' };
}

/** `{"id","result"}` or `{"id","error"}`, with the call's `tag` copied when it had one. */
export function encodeReply(id: RpcId, tag: Json | undefined, outcome: Outcome): string {
  const frame: { [k: string]: Json } = { id };
  if (tag !== undefined) frame.tag = tag;
  if ('error' in outcome)
    frame.error = { code: outcome.error.code, message: outcome.error.message };
  else frame.result = outcome.result;
  return JSON.stringify(frame);
}

/** A device request: `{"id":N,"method":M,"params":P}` (`params` left out when undefined). */
export function encodeRequest(id: number, method: string, params?: Json): string {
  return JSON.stringify(params === undefined ? { id, method } : { id, method, params });
}

/** A device notification: no id, so the hub never replies. */
export function encodeNotification(method: string, params?: Json): string {
  return JSON.stringify(params === undefined ? { method } : { method, params });
}

export type GarbageKind = 'invalid-json' | 'idless-error' | 'oversize';
export const GARBAGE_KINDS: readonly GarbageKind[] = ['invalid-json', 'idless-error', 'oversize'];
/** Size of the oversize garbage frame: well past the hub's 8 KB message limit. */
export const OVERSIZE_FRAME_BYTES = 20 * 1024;

/** Frames a misbehaving device sends; the hub must count and drop them (PROTOCOL.md 2). */
export function garbageFrame(kind: GarbageKind): string {
  switch (kind) {
    case 'invalid-json':
      return '{"method":"Log","params":{"fd":1,"data":"trunc';
    case 'idless-error':
      // What the Arduino library sends when it receives a frame it cannot parse.
      return JSON.stringify({ error: { code: -32700, message: 'parse error' } });
    case 'oversize': {
      const head = '{"method":"Log","params":{"fd":1,"data":"';
      const tail = '"}}';
      return head + 'x'.repeat(OVERSIZE_FRAME_BYTES - head.length - tail.length) + tail;
    }
  }
}
