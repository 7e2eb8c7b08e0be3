/**
 * The answer of `POST /api/v2/sql/exec` (PROTOCOL.md 4): `{"columns":[..],"rows":[[..]],
 * "truncated"?}`. Checked here before any page sees it: a cell is any JSON value SQLite can
 * return (null, number, text; blobs come as whatever the hub encodes them to).
 */
import type { Json } from '../../shared/types';

export interface SqlResult {
  columns: string[];
  rows: Json[][];
  /** The hub cut the result at its row or byte cap. */
  truncated: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The result, or null when `value` is not one. */
export function readSqlResult(value: unknown): SqlResult | null {
  if (!isObject(value)) return null;
  const { columns, rows, truncated } = value;
  if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string')) return null;
  if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r))) return null;
  return { columns: columns as string[], rows: rows as Json[][], truncated: truncated === true };
}
