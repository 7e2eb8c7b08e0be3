/**
 * mDashStore-style data spooling (PROTOCOL.md 5): the device appends one line
 * `<query> <json array>\n` to `mdash.unsent`; once the file passes 32 KB it becomes
 * `mdash.unsent.old` (replacing an older one) and a fresh `mdash.unsent` starts with the next
 * line. Like the mDash library, rotation happens right after the append that crossed the limit,
 * so `mdash.unsent.old` may end a little past 32 KB and holds complete lines only.
 */
import type { Json } from '../../shared/types';
import type { SimFs } from './sim-fs';

export const SPOOL_FILE = 'mdash.unsent';
export const SPOOL_OLD_FILE = 'mdash.unsent.old';
/** MDASH_DATA_FILE_SIZE_LIMIT of the mDash library. */
export const SPOOL_LIMIT_BYTES = 32768;

/** The spool line for one stored record, or an error message when it cannot be one line. */
export function spoolLine(query: string, params: Json[]): string {
  if (query.length === 0 || /[\r\n]/.test(query)) {
    throw new TypeError('store(): query must be a non-empty single line');
  }
  // JSON.stringify never emits raw newlines, so the record stays on one line.
  return `${query} ${JSON.stringify(params)}\n`;
}

export interface SpoolResult {
  /** True when the record was written. False when the file system is full. */
  stored: boolean;
  /** True when this append rotated the spool into `mdash.unsent.old`. */
  rotated: boolean;
}

export function spoolAppend(
  fs: SimFs,
  query: string,
  params: Json[],
  limitBytes = SPOOL_LIMIT_BYTES,
): SpoolResult {
  const line = Buffer.from(spoolLine(query, params), 'utf8');
  try {
    fs.write(SPOOL_FILE, line, true);
  } catch {
    // The mDash library returns 0 when fopen/fwrite fails; the record is lost, the device goes on.
    return { stored: false, rotated: false };
  }
  const size = fs.size(SPOOL_FILE) ?? 0;
  if (size <= limitBytes) return { stored: true, rotated: false };
  fs.rename(SPOOL_FILE, SPOOL_OLD_FILE);
  return { stored: true, rotated: true };
}
