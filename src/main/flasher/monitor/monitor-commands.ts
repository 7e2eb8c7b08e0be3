/**
 * The message contract between a serial monitor and its WebSocket clients, kept beside the
 * monitor so the integrator's route is only plumbing: validate a client frame, run it, send the
 * answer; forward monitor events as server frames. Every client frame is `unknown` until the
 * schema accepts it (DESIGN.md example 4); a bad frame gets an `error` frame and changes nothing.
 *
 * Client -> server:
 *   {"type":"write","data":"help\n"}                        text input (UTF-8)
 *   {"type":"write","data":"AAEC","encoding":"base64"}       raw bytes
 *   {"type":"baud","baud":921600}
 *   {"type":"reset"}
 *   {"type":"scrollback"}                                    ask for the retained output again
 * Server -> client:
 *   {"type":"data","base64":"..."}   {"type":"line","line":"..."}   {"type":"panic","panic":{..}}
 *   {"type":"warning","message":".."} {"type":"close","reason":"unplugged","message":".."}
 *   {"type":"scrollback","base64":".."} {"type":"ok","request":"reset"}
 *   {"type":"error","code":4093,"message":".."}
 */
import Type from 'typebox';
import { HubError } from '../../../shared/errors';
import { firstProblem } from '../../validate';
import type { PanicInfo } from './panic-decoder';
import type { CloseReason } from './serial-link';
import { BaudSchema, type SerialMonitor } from './serial-monitor';

export const MonitorClientMessageSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal('write'),
      data: Type.String({ maxLength: 128 * 1024 }),
      encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('baud'), baud: BaudSchema }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('reset') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('scrollback') }, { additionalProperties: false }),
]);
export type MonitorClientMessage = Type.Static<typeof MonitorClientMessageSchema>;

export type MonitorServerMessage =
  | { type: 'data'; base64: string }
  | { type: 'line'; line: string }
  | { type: 'panic'; panic: PanicInfo }
  | { type: 'warning'; message: string }
  | { type: 'close'; reason: CloseReason; message: string }
  | { type: 'scrollback'; base64: string }
  | { type: 'ok'; request: MonitorClientMessage['type'] }
  | { type: 'error'; code: number; message: string };

/** Largest client frame we parse at all (a base64 write of 64 KiB is ~88 KB). */
export const MAX_CLIENT_FRAME_CHARS = 160 * 1024;

function errorMessage(err: unknown): MonitorServerMessage {
  const e =
    err instanceof HubError
      ? err
      : new HubError('internal', err instanceof Error ? err.message : String(err));
  return { type: 'error', code: e.code, message: e.message };
}

/**
 * Validates and runs one client frame (a JSON string or an already parsed value). Never throws:
 * failures come back as an `error` frame.
 */
export async function handleMonitorCommand(
  monitor: SerialMonitor,
  raw: unknown,
): Promise<MonitorServerMessage> {
  let value: unknown = raw;
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
    if (text.length > MAX_CLIENT_FRAME_CHARS) {
      return errorMessage(new HubError('too_large', `frame of ${text.length} chars is too large`));
    }
    try {
      value = JSON.parse(text);
    } catch {
      return errorMessage(new HubError('invalid_json'));
    }
  }
  const problem = firstProblem(MonitorClientMessageSchema, value);
  if (problem !== null) return errorMessage(new HubError('validation_failed', problem));
  const msg = value as MonitorClientMessage;
  try {
    switch (msg.type) {
      case 'write': {
        if (msg.encoding === 'base64') {
          if (!/^[A-Za-z0-9+/]*={0,2}$/.test(msg.data)) {
            throw new HubError('validation_failed', '/data: not valid base64');
          }
          await monitor.write(Buffer.from(msg.data, 'base64'));
        } else {
          await monitor.write(msg.data);
        }
        return { type: 'ok', request: 'write' };
      }
      case 'baud':
        await monitor.setBaud(msg.baud);
        return { type: 'ok', request: 'baud' };
      case 'reset': {
        const r = await monitor.reset();
        return r.ok
          ? { type: 'ok', request: 'reset' }
          : { type: 'warning', message: r.warning ?? '' };
      }
      case 'scrollback':
        return { type: 'scrollback', base64: monitor.scrollback().toString('base64') };
    }
  } catch (err) {
    return errorMessage(err);
  }
}

/**
 * Forwards monitor events to `send` as server frames. `lines: true` sends `line` frames instead
 * of raw `data` frames (a log view vs. a terminal). Returns the unsubscribe function.
 */
export function forwardMonitorEvents(
  monitor: SerialMonitor,
  send: (msg: MonitorServerMessage) => void,
  opts: { lines?: boolean } = {},
): () => void {
  const onData = (chunk: Buffer) => send({ type: 'data', base64: chunk.toString('base64') });
  const onLine = (line: string) => send({ type: 'line', line });
  const onPanic = (panic: PanicInfo) => send({ type: 'panic', panic });
  const onWarning = (message: string) => send({ type: 'warning', message });
  const onClose = (info: { reason: CloseReason; message: string }) =>
    send({ type: 'close', reason: info.reason, message: info.message });
  if (opts.lines) monitor.on('line', onLine);
  else monitor.on('data', onData);
  monitor.on('panic', onPanic);
  monitor.on('warning', onWarning);
  monitor.on('close', onClose);
  return () => {
    monitor.off('data', onData);
    monitor.off('line', onLine);
    monitor.off('panic', onPanic);
    monitor.off('warning', onWarning);
    monitor.off('close', onClose);
  };
}
