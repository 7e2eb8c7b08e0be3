/**
 * CSV and JSON files of a query result, built in the page (the hub already sent every row).
 * CSV follows RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled, CRLF
 * line ends; objects (JSON cells) are written as their JSON text.
 */
import type { Json } from '../../shared/types';
import type { SqlResult } from './sql-result';

function csvField(v: Json): string {
  if (v === null) return '';
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(r: Pick<SqlResult, 'columns' | 'rows'>): string {
  const lines = [r.columns.map(csvField).join(',')];
  for (const row of r.rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * An array of one object per row, keyed by column name. A name seen twice (`SELECT a, a`) gets
 * `_2`, `_3`.. so no value is silently overwritten.
 */
export function toJsonRows(r: Pick<SqlResult, 'columns' | 'rows'>): Record<string, Json>[] {
  const seen = new Map<string, number>();
  const keys = r.columns.map((c) => {
    const n = (seen.get(c) ?? 0) + 1;
    seen.set(c, n);
    return n === 1 ? c : `${c}_${n}`;
  });
  return r.rows.map((row) => {
    const o: Record<string, Json> = {};
    keys.forEach((k, i) => {
      o[k] = row[i] ?? null;
    });
    return o;
  });
}

export function toJsonText(r: Pick<SqlResult, 'columns' | 'rows'>): string {
  return `${JSON.stringify(toJsonRows(r), null, 2)}\n`;
}
