/**
 * BOOT0/NRST entry and exit sequences on the serial modem lines, in the syntax of stm32flash's
 * `-i` option (FLASHING.md 4.3; `stm32flash -h`), so a string that works there works here:
 *
 *   sequence   = [entry] [":" exit]
 *   entry/exit = step { ("," | "&") step }
 *   step       = [ "-" ] ( "dtr" | "rts" | "brk" )  |  (empty)
 *
 * - `dtr` / `rts` set the line (serialport `set({dtr: true})`, the ioctl TIOCMBIS that stm32flash
 *   uses); `-dtr` / `-rts` clear it. On a typical USB-UART the pin is active low, so a set line
 *   drives the pin LOW. The names are stm32flash's: "-" means "reset signal (low)" there, i.e.
 *   the logical level 0 of the line, not the electrical level of the pin.
 * - `,` waits 100 ms after the step before it; `&` goes on at once. An empty step only waits, so
 *   `,,,,,` is 500 ms. Entry `-dtr,rts,-rts` with exit `dtr` is written `-dtr,rts,-rts:dtr`.
 * - `brk` sends a 250 ms BREAK (stm32flash calls tcsendbreak); `-brk` does nothing, as there.
 * - stm32flash also takes GPIO numbers (Linux sysfs GPIO); we have no GPIO access and reject them.
 *
 * The parser is pure. The runner drives any `ModemLines` (stm32-link.ts). A pty has no modem lines
 * (FLASHING.md 0.4): the ioctl fails with ENOTTY, which becomes a warning, not a failure.
 */
import { HubError } from '../../../shared/errors';
import { FlashError } from '../../../shared/flash-state';
import type { LineState, ModemLines } from './stm32-link';

export type SignalName = 'dtr' | 'rts' | 'brk';

export type SignalStep =
  { kind: 'set'; signal: SignalName; level: boolean } | { kind: 'wait'; ms: number };

export interface EntrySequence {
  entry: SignalStep[];
  exit: SignalStep[];
}

/** The delay one `,` adds (stm32flash port.c: usleep(100000)). */
export const STEP_DELAY_MS = 100;
/** How long `brk` holds the line in BREAK. */
export const BREAK_MS = 250;
/** Longest sequence string accepted; real ones are a few dozen characters. */
export const MAX_SEQUENCE_LENGTH = 200;

export const NO_RESET_LINES_WARNING = 'no reset lines: put the board in bootloader mode by hand';

/** serialport's state right after open on Linux/macOS: DTR and RTS asserted, no BREAK. */
export const LINES_AFTER_OPEN: LineState = { dtr: true, rts: true, brk: false };

function invalid(message: string): HubError {
  return new HubError('validation_failed', `entrySequence: ${message}`);
}

function parseHalf(text: string, offset: number): SignalStep[] {
  const steps: SignalStep[] = [];
  // Split keeping separators: "a,b&c" -> ["a", ",", "b", "&", "c"].
  const parts = text.split(/([,&])/);
  let pos = offset;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (i % 2 === 1) {
      if (part === ',') steps.push({ kind: 'wait', ms: STEP_DELAY_MS });
      pos += 1;
      continue;
    }
    const token = part.trim().toLowerCase();
    if (token !== '') {
      const m = /^(-?)(dtr|rts|brk)$/.exec(token);
      if (!m) {
        const hint = /^-?\d+$/.test(token) ? ' (GPIO numbers are not supported)' : '';
        throw invalid(`unknown signal "${part}" at character ${pos + 1}${hint}`);
      }
      steps.push({ kind: 'set', signal: m[2] as SignalName, level: m[1] !== '-' });
    }
    pos += part.length;
  }
  return steps;
}

/**
 * Parses an stm32flash-style `-i` string. Throws HubError('validation_failed') naming the first
 * bad character, so a REST route can answer 400 before any port is touched.
 */
export function parseEntrySequence(text: string): EntrySequence {
  if (typeof text !== 'string') throw invalid('must be a string');
  if (text.length > MAX_SEQUENCE_LENGTH) {
    throw invalid(`longer than ${MAX_SEQUENCE_LENGTH} characters`);
  }
  const colon = text.indexOf(':');
  if (colon !== -1 && text.indexOf(':', colon + 1) !== -1) {
    throw invalid('only one ":" may separate the entry and exit sequences');
  }
  const entryText = colon === -1 ? text : text.slice(0, colon);
  const exitText = colon === -1 ? '' : text.slice(colon + 1);
  return { entry: parseHalf(entryText, 0), exit: parseHalf(exitText, colon + 1) };
}

/** Total time a step list waits, for progress estimates and tests. */
export function sequenceDurationMs(steps: readonly SignalStep[]): number {
  return steps.reduce(
    (ms, s) => ms + (s.kind === 'wait' ? s.ms : s.signal === 'brk' && s.level ? BREAK_MS : 0),
    0,
  );
}

/** True for the error a pty (or any port without modem lines) gives for TIOCMSET. */
export function isNoModemLinesError(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (e.code === 'ENOTTY' || e.errno === 25) return true;
  return typeof e.message === 'string' && /ENOTTY|Inappropriate ioctl/i.test(e.message);
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new FlashError('cancelled', 'cancelled'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new FlashError('cancelled', 'cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface RunOptions {
  /** Line state before the first step; defaults to LINES_AFTER_OPEN. */
  initial?: LineState;
  sleep?: Sleep;
  signal?: AbortSignal;
}

export interface RunResult {
  /** The lines as left by the last step that ran. */
  lines: LineState;
  /** Set when the port has no modem lines (a pty): the rest of the sequence was skipped. */
  warning?: string;
}

/**
 * Runs steps in order on `port`. Every `set` sends the full line state (see Stm32Link.setLines).
 * ENOTTY stops the sequence with a warning; any other failure throws FlashError('port_vanished').
 */
export async function runSignalSteps(
  steps: readonly SignalStep[],
  port: ModemLines,
  opts: RunOptions = {},
): Promise<RunResult> {
  const wait = opts.sleep ?? sleep;
  let lines: LineState = { ...(opts.initial ?? LINES_AFTER_OPEN) };
  const apply = async (next: LineState, label: string): Promise<boolean> => {
    try {
      await port.setLines(next);
      lines = next;
      return true;
    } catch (err) {
      if (err instanceof FlashError) throw err;
      if (isNoModemLinesError(err)) return false;
      const msg = err instanceof Error ? err.message : String(err);
      throw new FlashError('port_vanished', `could not set ${label}: ${msg}`);
    }
  };
  for (const step of steps) {
    if (opts.signal?.aborted) throw new FlashError('cancelled', 'cancelled');
    if (step.kind === 'wait') {
      await wait(step.ms, opts.signal);
      continue;
    }
    if (step.signal === 'brk') {
      if (!step.level) continue;
      if (!(await apply({ ...lines, brk: true }, 'BREAK'))) {
        return { lines, warning: NO_RESET_LINES_WARNING };
      }
      await wait(BREAK_MS, opts.signal);
      if (!(await apply({ ...lines, brk: false }, 'BREAK'))) {
        return { lines, warning: NO_RESET_LINES_WARNING };
      }
      continue;
    }
    const next: LineState = { ...lines, [step.signal]: step.level };
    if (!(await apply(next, step.signal.toUpperCase()))) {
      return { lines, warning: NO_RESET_LINES_WARNING };
    }
  }
  return { lines };
}
