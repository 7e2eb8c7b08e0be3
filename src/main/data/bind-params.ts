/**
 * Positional `?` parameters of an ACL query (PROTOCOL.md 5), from the JSON values a device sends
 * to the values SQLite stores: numbers (whole ones as INTEGER), strings and null as themselves, booleans as 1/0 (SQLite
 * has no boolean, and better-sqlite3 refuses them), objects and arrays as their JSON text (what
 * mDash stores in a TEXT column). Pure.
 */
import type { Json } from '../../shared/types';

export type SqlValue = number | bigint | string | null;

export function bindValue(v: Json): SqlValue {
  // better-sqlite3 binds every JS number as REAL: a device's 42 would be stored (and read back
  // from a TEXT column) as "42.0". Whole numbers go in as INTEGER, as JSON meant them.
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (v === null || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return JSON.stringify(v);
}

export function bindParams(params: readonly Json[]): SqlValue[] {
  return params.map(bindValue);
}
