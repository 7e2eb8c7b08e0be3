/**
 * The lines of a device's data spool (PROTOCOL.md 5): the mDash library's `mDashStore` appends
 * `<query-name> <json array>\n` per record. Pure: takes the file's text, returns the records and
 * what could not be read, so the drain can count and log every bad line and go on with the rest.
 */
import type { Json } from '../../shared/types';

export interface SpoolRecord {
  /** 1-based line number in the file, for log lines. */
  line: number;
  name: string;
  params: Json[];
}

export interface SpoolBadLine {
  line: number;
  reason: string;
  /** The start of the line, for the log. */
  text: string;
}

export interface ParsedSpool {
  records: SpoolRecord[];
  bad: SpoolBadLine[];
}

/** Parses one line (without its newline); a string is the reason it is malformed. */
export function parseSpoolLine(text: string): { name: string; params: Json[] } | string {
  const line = text.endsWith('\r') ? text.slice(0, -1) : text;
  const space = line.indexOf(' ');
  if (space <= 0) return 'expected "<query-name> <json array>"';
  const name = line.slice(0, space);
  let params: unknown;
  try {
    params = JSON.parse(line.slice(space + 1));
  } catch {
    return 'parameters are not valid JSON';
  }
  if (!Array.isArray(params)) return 'parameters are not a JSON array';
  return { name, params: params as Json[] };
}

/**
 * Every line of `text`. Empty lines are ignored; a last line without its newline is malformed (a
 * cut-off write: firmware always ends a record with one), and reported like any other bad line.
 */
export function parseSpool(text: string): ParsedSpool {
  const records: SpoolRecord[] = [];
  const bad: SpoolBadLine[] = [];
  const lines = text.split('\n');
  const complete = lines.length - 1; // after the last '\n' comes the unterminated tail
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw === '' || raw === '\r') continue;
    if (i === complete) {
      bad.push({ line: i + 1, reason: 'incomplete last line', text: raw.slice(0, 80) });
      continue;
    }
    const r = parseSpoolLine(raw);
    if (typeof r === 'string') bad.push({ line: i + 1, reason: r, text: raw.slice(0, 80) });
    else records.push({ line: i + 1, name: r.name, params: r.params });
  }
  return { records, bad };
}
