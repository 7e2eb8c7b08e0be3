/**
 * The data half of the import planner (src/main/import/data-plan.ts): table shapes from CREATE
 * statements, which tables are skipped, page and INSERT text, and batches cut at the limits.
 */
import { describe, expect, it } from 'vitest';
import {
  batchRows,
  BOOKMARK_TABLE,
  insertStatement,
  missingIndexes,
  pageQuery,
  skipReason,
  tableShape,
} from '../../../src/main/import/data-plan';
import { checkSql } from '../../../src/main/data/sql-guard';

describe('data plan', () => {
  it('reads keys, WITHOUT ROWID and virtual tables from the CREATE text (quotes and comments too)', () => {
    expect(
      tableShape('CREATE TABLE data(timestamp TEXT, device_id TEXT, topic TEXT, message TEXT)'),
    ).toEqual({
      keyed: false,
      withoutRowid: false,
      virtual: false,
    });
    expect(tableShape('CREATE TABLE t (id INTEGER PRIMARY KEY, v)').keyed).toBe(true);
    expect(tableShape('CREATE TABLE t (a, b, UNIQUE (a, b))').keyed).toBe(true);
    expect(
      tableShape('CREATE TABLE t (a DEFAULT \'primary\', "unique" TEXT) -- primary key').keyed,
    ).toBe(false);
    expect(tableShape('CREATE TABLE t (a PRIMARY KEY) WITHOUT ROWID')).toMatchObject({
      withoutRowid: true,
      keyed: true,
    });
    expect(tableShape('CREATE VIRTUAL TABLE f USING fts5(x)').virtual).toBe(true);
  });

  it('skips SQLite internals, the bookmarks and virtual tables', () => {
    expect(
      skipReason({ name: 'sqlite_sequence', sql: 'CREATE TABLE sqlite_sequence(name,seq)' }),
    ).not.toBeNull();
    expect(skipReason({ name: BOOKMARK_TABLE, sql: 'CREATE TABLE x (a)' })).not.toBeNull();
    expect(skipReason({ name: 'data', sql: 'CREATE TABLE data (a)' })).toBeNull();
  });

  it('writes page and insert statements the SQL guard accepts, identifiers quoted', () => {
    const q = pageQuery('we"ird', { keyed: false, withoutRowid: false, virtual: false }, 10, 500);
    expect(q).toBe(
      'SELECT rowid AS __fleetbench_rowid, * FROM "we""ird" WHERE rowid > 10 ORDER BY rowid LIMIT 500',
    );
    expect(() => checkSql(q)).not.toThrow();
    const ins = insertStatement('t', ['a', 'b'], 2, true);
    expect(ins).toBe('INSERT OR IGNORE INTO "t" ("a", "b") VALUES (?, ?), (?, ?)');
    expect(() => checkSql(ins)).not.toThrow();
    expect(() =>
      pageQuery('t', { keyed: true, withoutRowid: true, virtual: false }, 1.5, 2),
    ).toThrow();
  });

  it('cuts batches at the parameter cap and at the byte cap; an oversized row goes alone', () => {
    const rows = Array.from({ length: 7 }, (_, i) => [i, 'x', null] as const);
    // 3 values a row, 9 params: 3 rows a batch, exactly at the edge.
    expect(batchRows(rows, 9, 1e6).map((b) => b.length)).toEqual([3, 3, 1]);
    expect(batchRows(rows, 8, 1e6).map((b) => b.length)).toEqual([2, 2, 2, 1]);
    const big = [['a'.repeat(100)], ['b'], ['c'.repeat(100)]];
    expect(batchRows(big, 999, 50).map((b) => b.length)).toEqual([1, 1, 1]);
    expect(batchRows([], 9, 100)).toEqual([]);
  });

  it('creates the source indexes of a copied table that the target lacks, and only those', () => {
    const source = [
      { name: 'r_v', tbl_name: 'readings', sql: 'CREATE INDEX r_v ON readings (v)' },
      { name: 'r_n', tbl_name: 'readings', sql: 'CREATE INDEX r_n ON readings (note)' },
      { name: 'o_x', tbl_name: 'other', sql: 'CREATE INDEX o_x ON other (x)' },
    ];
    expect(missingIndexes(source, new Set(['readings']), new Set(['r_n']))).toEqual([
      { name: 'r_v', sql: 'CREATE INDEX r_v ON readings (v)' },
    ]);
    expect(missingIndexes(source, new Set(), new Set())).toEqual([]);
  });
});
