/**
 * `log.decoded` (issue 8: ESP32 crashes decoded fleet-wide) in the device console: read the
 * notification's data (unknown until checked) and hang its frames under the console line it
 * decodes, found by the `Log` frame's `seq` (or, for a device that sends no seq, the newest line
 * that holds a backtrace).
 */
import type { DecodedFrame } from '../../shared/crash';
import type { Json } from '../../shared/types';
import { isJsonObject } from './json-text';

export interface DecodedLine {
  seq: number | null;
  backtrace: string;
  frames: DecodedFrame[];
}

const strOrNull = (v: Json | undefined): string | null | undefined =>
  v === null ? null : typeof v === 'string' ? v : undefined;

export function readDecoded(data: Json): DecodedLine | null {
  if (!isJsonObject(data) || typeof data.backtrace !== 'string' || !Array.isArray(data.frames)) {
    return null;
  }
  const frames: DecodedFrame[] = [];
  for (const f of data.frames) {
    if (!isJsonObject(f) || typeof f.pc !== 'string') return null;
    const fn = strOrNull(f.function);
    const file = strOrNull(f.file);
    const line = f.line === null ? null : typeof f.line === 'number' ? f.line : undefined;
    if (fn === undefined || file === undefined || line === undefined) return null;
    frames.push({ pc: f.pc, function: fn, file, line });
  }
  return { seq: typeof data.seq === 'number' ? data.seq : null, backtrace: data.backtrace, frames };
}

/** The minimal console-line shape this needs. */
export interface SeqLine {
  seq: number | null;
  text: string;
  frames?: DecodedFrame[];
}

/** A copy of `lines` with the frames attached to the matching line; the same array if none. */
export function attachDecoded<L extends SeqLine>(lines: L[], d: DecodedLine): L[] {
  let at = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (!l || l.frames) continue;
    if (d.seq !== null ? l.seq === d.seq : l.text.includes('Backtrace:')) {
      at = i;
      break;
    }
  }
  if (at < 0) return lines;
  const copy = lines.slice();
  const target = copy[at];
  if (target) copy[at] = { ...target, frames: d.frames };
  return copy;
}

/** `app_main (main/app_main.c:42)`, `0x400d1012` when nothing is known. */
export function frameText(f: DecodedFrame): string {
  const where = f.file !== null ? `${f.file}${f.line !== null ? `:${f.line}` : ''}` : null;
  if (f.function === null) return where === null ? f.pc : `${f.pc} (${where})`;
  return where === null ? `${f.pc}: ${f.function}` : `${f.pc}: ${f.function} at ${where}`;
}
