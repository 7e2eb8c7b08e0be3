/**
 * Messages between the job manager and a flash worker (FLASHING.md 0.3: flashing runs off the
 * hub's event loop). Host -> worker: `start` once (the file bytes are transferred, not copied),
 * then maybe `cancel`. Worker -> host: `state` and `log` while it runs, then exactly one of
 * `result` or `error`. Anything else from the worker is a bug and fails the job.
 */
import type { FlashErrorCode, FlashState } from '../../../shared/flash-state';
import type { FlashRequest } from './flash-request';
import type { FlashOutcome, RunnerTuning } from './flash-runner';

export type ToWorker =
  { type: 'start'; request: FlashRequest; tuning?: RunnerTuning } | { type: 'cancel' };

export type FromWorker =
  | { type: 'state'; state: FlashState }
  | { type: 'log'; line: string }
  | { type: 'result'; result: FlashOutcome }
  | { type: 'error'; code: FlashErrorCode; message: string; hint?: string };

const TYPES = new Set(['state', 'log', 'result', 'error']);

/** A structural check: the worker is our code, but a message is still input (DESIGN.md 4). */
export function isFromWorker(v: unknown): v is FromWorker {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  if (typeof m['type'] !== 'string' || !TYPES.has(m['type'])) return false;
  switch (m['type']) {
    case 'state': {
      const s = m['state'] as { state?: unknown } | null;
      return typeof s === 'object' && s !== null && typeof s.state === 'string';
    }
    case 'log':
      return typeof m['line'] === 'string';
    case 'result':
      return typeof m['result'] === 'object' && m['result'] !== null;
    default:
      return typeof m['code'] === 'string' && typeof m['message'] === 'string';
  }
}

export function isToWorker(v: unknown): v is ToWorker {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  if (m['type'] === 'cancel') return true;
  return m['type'] === 'start' && typeof m['request'] === 'object' && m['request'] !== null;
}
