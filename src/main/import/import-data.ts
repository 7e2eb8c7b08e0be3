/**
 * The account database part of an import (PROTOCOL.md 4 `POST /sql/exec`, 5): source tables are
 * listed from `sqlite_master`, missing ones created here with the source's own CREATE statement
 * (and its indexes), and rows copied a page at a time in INSERT batches with bound parameters.
 * Only one page of rows is held at once. The idempotency rule is in data-plan.ts (README
 * "Import"): a bookmark per (source, table) in the target, plus INSERT OR IGNORE on keyed tables.
 */
import {
  batchRows,
  BOOKMARK_TABLE,
  countQuery,
  CREATE_BOOKMARKS,
  insertStatement,
  LIST_INDEXES,
  LIST_TABLES,
  missingIndexes,
  pageQuery,
  READ_BOOKMARK,
  ROWID_COLUMN,
  skipReason,
  tableShape,
  WRITE_BOOKMARK,
  type Cell,
  type SourceTable,
  type TableShape,
} from './data-plan';
import type { SummaryBuilder } from './import-summary';
import { reasonOf, RestError } from './rest-client';
import type { SourceReader } from './source-reader';
import type { TargetHub } from './target-hub';

export interface DataOptions {
  dryRun: boolean;
  rowPage: number;
  maxParams: number;
  maxInsertBytes: number;
  progress: (line: string) => void;
}

/** A `SELECT count(*)`-like answer as a number. */
function firstNumber(rows: unknown[][]): number {
  const v = rows[0]?.[0];
  return typeof v === 'number' ? v : Number(v ?? 0);
}

function asTables(rows: unknown[][]): SourceTable[] {
  return rows
    .filter((r) => typeof r[0] === 'string' && typeof r[1] === 'string')
    .map((r) => ({ name: r[0] as string, sql: r[1] as string }));
}

export async function importData(
  source: SourceReader,
  target: TargetHub,
  summary: SummaryBuilder,
  o: DataOptions,
): Promise<void> {
  let tables: SourceTable[];
  try {
    tables = asTables((await source.sql(LIST_TABLES)).rows);
  } catch (err) {
    if (err instanceof RestError) {
      summary.note(
        `data not copied: the source's SQL API refused to list tables (${err.describe()})`,
      );
      return;
    }
    throw err;
  }
  const local = await target.sql(LIST_TABLES);
  const localTables = new Set(asTables(local.rows).map((t) => t.name));
  const indexes = (await source.sql(LIST_INDEXES)).rows
    .filter((r) => typeof r[0] === 'string' && typeof r[1] === 'string' && typeof r[2] === 'string')
    .map((r) => ({ name: r[0] as string, tbl_name: r[1] as string, sql: r[2] as string }));
  const localIndexes = new Set(
    (await target.sql("SELECT name FROM sqlite_master WHERE type='index'")).rows.map((r) =>
      String(r[0]),
    ),
  );
  const hasBookmarks = localTables.has(BOOKMARK_TABLE);
  if (!o.dryRun && !hasBookmarks) await target.sql(CREATE_BOOKMARKS);

  for (const t of tables) {
    const skip = skipReason(t);
    if (skip !== null) continue;
    const shape = tableShape(t.sql);
    const exists = localTables.has(t.name);
    const item = { kind: 'tables' as const, id: t.name };
    try {
      if (!exists && !o.dryRun) {
        await target.sql(t.sql);
        for (const i of missingIndexes(indexes, new Set([t.name]), localIndexes)) {
          await target.sql(i.sql);
        }
      }
      const after =
        hasBookmarks && !shape.withoutRowid
          ? firstNumber((await target.sql(READ_BOOKMARK, [source.ep.label, t.name])).rows)
          : 0;
      const total = firstNumber((await source.sql(countQuery(t.name, shape, 0))).rows);
      const pending = firstNumber((await source.sql(countQuery(t.name, shape, after))).rows);
      summary.rows('unchanged', total - pending);
      const copy = o.dryRun
        ? { created: pending, unchanged: 0, failed: 0, reason: null }
        : await copyRows(source, target, t.name, shape, after, pending, o);
      summary.rows('created', copy.created);
      summary.rows('unchanged', copy.unchanged);
      summary.rows('failed', copy.failed);
      const rowsNote = copy.unchanged > 0 ? `, ${copy.unchanged} kept (key exists here)` : '';
      if (copy.reason !== null) {
        summary.add({
          ...item,
          outcome: 'failed',
          action: `copy rows${rowsNote}`,
          rows: copy.created,
          reason: copy.reason,
        });
      } else if (!exists) {
        summary.add({
          ...item,
          outcome: 'created',
          action: `create, copy rows${rowsNote}`,
          rows: copy.created,
        });
      } else if (copy.created > 0) {
        summary.add({
          ...item,
          outcome: 'updated',
          action: `append rows${rowsNote}`,
          rows: copy.created,
        });
      } else {
        summary.add({ ...item, outcome: 'unchanged', action: 'unchanged' });
      }
    } catch (err) {
      summary.add({
        ...item,
        outcome: 'failed',
        action: exists ? 'copy rows' : 'create',
        reason: reasonOf(err),
      });
    }
  }
}

interface CopyResult {
  created: number;
  unchanged: number;
  failed: number;
  reason: string | null;
}

/** Copies the rows past `after`, a page at a time; stops at the first refused INSERT. */
async function copyRows(
  source: SourceReader,
  target: TargetHub,
  table: string,
  shape: TableShape,
  after: number,
  pending: number,
  o: DataOptions,
): Promise<CopyResult> {
  const r: CopyResult = { created: 0, unchanged: 0, failed: 0, reason: null };
  let cursor = after;
  let done = 0;
  for (;;) {
    const page = await source.sql(pageQuery(table, shape, cursor, o.rowPage));
    if (page.rows.length === 0) break;
    const rowidAt = page.columns.indexOf(ROWID_COLUMN);
    const columns = page.columns.filter((_, i) => i !== rowidAt);
    // Each row keeps its source rowid (or offset) beside its cells, for the bookmark.
    const rows = page.rows.map((row, n) => {
      const key = rowidAt >= 0 ? Number(row[rowidAt]) : cursor + n + 1;
      const cells = rowidAt >= 0 ? row.filter((_, i) => i !== rowidAt) : row;
      return { key, cells: cells as Cell[] };
    });
    const batches = batchRows(
      rows.map((x) => x.cells),
      o.maxParams,
      o.maxInsertBytes,
    );
    let at = 0;
    for (const batch of batches) {
      const last = rows[at + batch.length - 1];
      at += batch.length;
      try {
        const res = await target.sql(
          insertStatement(table, columns, batch.length, shape.keyed),
          batch.flat(),
        );
        const changes = res.changes ?? batch.length;
        r.created += changes;
        r.unchanged += batch.length - changes;
        if (!shape.withoutRowid && last !== undefined) {
          await target.sql(WRITE_BOOKMARK, [source.ep.label, table, last.key]);
        }
      } catch (err) {
        r.reason = reasonOf(err);
        r.failed = Math.max(0, pending - done);
        return r;
      }
      done += batch.length;
    }
    o.progress(`data: ${table} ${done}/${pending} rows`);
    const lastRow = rows[rows.length - 1];
    cursor = shape.withoutRowid ? cursor + rows.length : (lastRow?.key ?? cursor);
    // A page cut short by the source's own result cap (`truncated`) is not the end.
    if (page.rows.length < o.rowPage && page.truncated !== true) break;
  }
  return r;
}
