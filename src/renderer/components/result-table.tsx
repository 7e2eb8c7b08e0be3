/**
 * A query result as a table: header + virtualized rows (components/virtual-list.tsx), so 100k
 * rows scroll like 30. Column widths come from a sample of the values (a fixed-row-height list
 * cannot measure every cell); wide results scroll sideways with the header attached.
 */
import { useMemo, type ReactNode } from 'react';
import type { Json } from '../../shared/types';
import { VirtualList } from './virtual-list';

export const RESULT_ROW_HEIGHT = 30;
const CHAR_PX = 7.6;
const MIN_COL = 72;
const MAX_COL = 420;
const SAMPLE = 200;

export function cellText(v: Json | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Pixel widths of each column from its name and the first rows' values. */
export function columnWidths(columns: readonly string[], rows: readonly Json[][]): number[] {
  return columns.map((name, ci) => {
    let chars = name.length + 2;
    for (const row of rows.slice(0, SAMPLE)) chars = Math.max(chars, cellText(row[ci]).length);
    return Math.round(Math.min(MAX_COL, Math.max(MIN_COL, chars * CHAR_PX + 24)));
  });
}

/** Columns whose sampled values are all numbers (or null): right-aligned, header included. */
export function numericColumns(columns: readonly string[], rows: readonly Json[][]): boolean[] {
  const sample = rows.slice(0, SAMPLE);
  return columns.map(
    (_, ci) =>
      sample.some((r) => typeof r[ci] === 'number') &&
      sample.every((r) => r[ci] === null || r[ci] === undefined || typeof r[ci] === 'number'),
  );
}

/** A short result takes the room it needs (a few empty rows at least), a long one `max`. */
function fitHeight(rows: number, max: number): number {
  // header 34 + borders 2 + room for a sideways scrollbar 16
  return Math.min(max, 52 + Math.max(rows, 3) * RESULT_ROW_HEIGHT);
}

export interface ResultTableProps {
  columns: readonly string[];
  rows: readonly Json[][];
  testId?: string;
  ariaLabel: string;
  /** The most it grows to (px); fewer rows take less. */
  height?: number;
}

export function ResultTable(props: ResultTableProps): ReactNode {
  const { columns, rows } = props;
  const widths = useMemo(() => columnWidths(columns, rows), [columns, rows]);
  const numeric = useMemo(() => numericColumns(columns, rows), [columns, rows]);
  const indexes = useMemo(() => Array.from(rows, (_, i) => i), [rows]);
  const template = widths.map((w) => `${w}px`).join(' ');
  const total = widths.reduce((a, b) => a + b, 0) + 24;

  return (
    <div
      className="result-table"
      style={{ height: fitHeight(rows.length, props.height ?? 420) }}
      data-testid={props.testId}
      data-rows={rows.length}
    >
      <div
        className="result-inner"
        role="table"
        aria-label={props.ariaLabel}
        style={{ width: total }}
      >
        <div
          className="result-row result-head"
          role="row"
          style={{ gridTemplateColumns: template }}
        >
          {columns.map((c, i) => (
            <div
              key={`${i}:${c}`}
              role="columnheader"
              className={`cell ${numeric[i] ? 'num' : ''}`}
              title={c}
            >
              {c}
            </div>
          ))}
        </div>
        <VirtualList
          items={indexes}
          rowHeight={RESULT_ROW_HEIGHT}
          rowIndexOffset={1}
          ariaLabel={`${props.ariaLabel} rows`}
          className="result-body"
          getKey={(i) => String(i)}
          renderRow={(i) => (
            <div className="result-row" style={{ gridTemplateColumns: template }}>
              {columns.map((_, ci) => {
                const v = rows[i]?.[ci];
                const text = cellText(v);
                return (
                  <div
                    key={ci}
                    role="cell"
                    className={`cell mono ${v === null || v === undefined ? 'muted' : ''} ${typeof v === 'number' ? 'num' : ''}`}
                    title={text.length > 40 ? text : undefined}
                  >
                    {text}
                  </div>
                );
              })}
            </div>
          )}
          empty={
            <div className="empty small" data-testid="result-empty">
              No rows.
            </div>
          }
        />
      </div>
    </div>
  );
}
