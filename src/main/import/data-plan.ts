/**
 * The data part of `fleetbench import` as pure values: which source tables to copy, the SQL text
 * of each step (all through the SQL API, PROTOCOL.md 4 `POST /sql/exec`, values always bound),
 * and how a page of rows is cut into INSERTs that fit the target's limits.
 *
 * The idempotency rule (README "Import"):
 * - Rows are read in rowid order, a page at a time (keyset paging: `rowid > last`), and the last
 *   source rowid copied is kept per (source, table) in the target's `fleetbench_import` table,
 *   written after each INSERT. A rerun reads only rows past it, so nothing is copied twice, and
 *   rows added at the source since are copied (an incremental sync).
 * - A table with a PRIMARY KEY or UNIQUE constraint is also written with INSERT OR IGNORE: a row
 *   whose key exists locally is kept as it is, whatever the bookmark says (another source URL for
 *   the same server, rows made locally). WITHOUT ROWID tables have such a key by definition and
 *   are paged with OFFSET, relying on it alone.
 * Rows changed at the source after they were copied are not copied again (append only).
 */
import { tokenize } from '../data/sql-guard';

/** The target table that remembers how far each source table was copied. */
export const BOOKMARK_TABLE = 'fleetbench_import';

export const CREATE_BOOKMARKS = `CREATE TABLE IF NOT EXISTS ${BOOKMARK_TABLE} (
  source TEXT NOT NULL,
  tbl TEXT NOT NULL,
  last_rowid INTEGER NOT NULL,
  updated TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (source, tbl))`;

export const READ_BOOKMARK = `SELECT last_rowid FROM ${BOOKMARK_TABLE} WHERE source = ? AND tbl = ?`;

export const WRITE_BOOKMARK = `INSERT INTO ${BOOKMARK_TABLE} (source, tbl, last_rowid) VALUES (?, ?, ?)
  ON CONFLICT (source, tbl) DO UPDATE SET last_rowid = excluded.last_rowid,
  updated = CURRENT_TIMESTAMP`;

/** Tables and indexes of a database, as PROTOCOL.md 4 says to list them. */
export const LIST_TABLES = "SELECT name, sql FROM sqlite_master WHERE type='table'";
export const LIST_INDEXES =
  "SELECT name, tbl_name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL";

export interface SourceTable {
  name: string;
  sql: string;
}

export interface TableShape {
  /** A PRIMARY KEY or UNIQUE constraint: rows have an identity, INSERT OR IGNORE keeps it. */
  keyed: boolean;
  withoutRowid: boolean;
  virtual: boolean;
}

/** Read from the CREATE statement with the SQL guard's tokenizer (quotes and comments handled). */
export function tableShape(createSql: string): TableShape {
  const words = tokenize(createSql)
    .filter((t) => t.kind === 'word')
    .map((t) => t.text);
  const has = (w: string): boolean => words.includes(w);
  const withoutRowid = words.some((w, i) => w === 'WITHOUT' && words[i + 1] === 'ROWID');
  return {
    keyed: has('PRIMARY') || has('UNIQUE') || withoutRowid,
    withoutRowid,
    virtual: words[0] === 'CREATE' && words[1] === 'VIRTUAL',
  };
}

/**
 * Why a source table is not copied, or null to copy it: SQLite's own tables (`sqlite_sequence`
 * follows the rows; `sqlite_stat*` are statistics), our bookmarks (another hub's progress means
 * nothing here), and virtual tables (their storage tables are SQLite's business).
 */
export function skipReason(t: SourceTable): string | null {
  if (t.name.toLowerCase().startsWith('sqlite_')) return 'an SQLite internal table';
  if (t.name === BOOKMARK_TABLE) return "the source's own import bookmarks";
  if (tableShape(t.sql).virtual) return 'a virtual table (not copied)';
  return null;
}

/** An SQL identifier, quoted as SQLite quotes it. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Column name given to the source rowid in page queries; never a real column of the copy. */
export const ROWID_COLUMN = '__fleetbench_rowid';

/**
 * Integers we produce (rowids, limits) are written into the source's query text: the source may
 * be mdash.net, whose SQL API is only known to take `query` (PROTOCOL.md 4). Nothing else is.
 */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
}

/** One page of a source table: rows after source rowid `after`, or at `offset` (WITHOUT ROWID). */
export function pageQuery(table: string, shape: TableShape, after: number, limit: number): string {
  if (shape.withoutRowid) {
    return `SELECT * FROM ${ident(table)} LIMIT ${int(limit)} OFFSET ${int(after)}`;
  }
  return `SELECT rowid AS ${ROWID_COLUMN}, * FROM ${ident(table)} WHERE rowid > ${int(after)} ORDER BY rowid LIMIT ${int(limit)}`;
}

/** How many rows of a source table are past `after` (all of them for WITHOUT ROWID). */
export function countQuery(table: string, shape: TableShape, after: number): string {
  if (shape.withoutRowid) return `SELECT count(*) FROM ${ident(table)}`;
  return `SELECT count(*) FROM ${ident(table)} WHERE rowid > ${int(after)}`;
}

/** A multi-row INSERT of `rows` rows of `columns`, every value a bound `?`. */
export function insertStatement(
  table: string,
  columns: readonly string[],
  rows: number,
  orIgnore: boolean,
): string {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const values = Array.from({ length: rows }, () => tuple).join(', ');
  const verb = orIgnore ? 'INSERT OR IGNORE INTO' : 'INSERT INTO';
  return `${verb} ${ident(table)} (${columns.map(ident).join(', ')}) VALUES ${values}`;
}

export type Cell = string | number | boolean | null;

/**
 * Cuts rows into INSERT batches: at most `maxParams` bound values each (the SQL API's cap) and at
 * most about `maxBytes` of parameters as JSON (the target's body limit). A row bigger than
 * `maxBytes` by itself goes alone: the target then says whether it fits.
 */
export function batchRows<R extends readonly Cell[]>(
  rows: readonly R[],
  maxParams: number,
  maxBytes: number,
): R[][] {
  const batches: R[][] = [];
  let current: R[] = [];
  let params = 0;
  let bytes = 0;
  for (const row of rows) {
    const size = JSON.stringify(row).length;
    if (current.length > 0 && (params + row.length > maxParams || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      params = 0;
      bytes = 0;
    }
    current.push(row);
    params += row.length;
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The `CREATE INDEX` statements of the source to run here: those on copied tables not present. */
export function missingIndexes(
  source: ReadonlyArray<{ name: string; tbl_name: string; sql: string }>,
  copiedTables: ReadonlySet<string>,
  localIndexNames: ReadonlySet<string>,
): Array<{ name: string; sql: string }> {
  return source
    .filter((i) => copiedTables.has(i.tbl_name) && !localIndexNames.has(i.name))
    .map((i) => ({ name: i.name, sql: i.sql }));
}
