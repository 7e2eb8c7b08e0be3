/**
 * Frames we send to devices (PROTOCOL.md 2). Never a `dst` (Mongoose OS drops frames whose
 * `dst` is not its own id) and no `"jsonrpc"` (firmware neither sends nor needs it).
 */
import type { Json } from '../../shared/types';
import type { RpcId } from './frame-codec';

/** A call of ours: numeric id unique per session, `src` = `$sys/<devid>`. */
export function encodeCall(
  id: number,
  method: string,
  params: Json | undefined,
  src: string,
): string {
  const frame: { id: number; method: string; params?: Json; src: string } = { id, method, src };
  if (params !== undefined) frame.params = params;
  return JSON.stringify(frame);
}

/** The answer to a device request; `tag` is echoed when the request carried one. */
export function encodeResult(id: RpcId, result: Json, tag?: Json): string {
  // A JSON-RPC success must carry `result`; JSON.stringify would drop an undefined one.
  const frame: { id: RpcId; result: Json; tag?: Json } = { id, result: result ?? null };
  if (tag !== undefined) frame.tag = tag;
  return JSON.stringify(frame);
}

/** An error answer to a device request, e.g. -32601 "method not found" (PROTOCOL.md 2). */
export function encodeError(id: RpcId, code: number, message: string, tag?: Json): string {
  const frame: { id: RpcId; error: { code: number; message: string }; tag?: Json } = {
    id,
    error: { code, message },
  };
  if (tag !== undefined) frame.tag = tag;
  return JSON.stringify(frame);
}
