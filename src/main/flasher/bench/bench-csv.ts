/**
 * Bench results as CSV (issue: "export the results as CSV"). Pure.
 *
 * RFC 4180: fields holding a comma, a double quote, CR or LF are quoted, quotes doubled, records
 * end with CRLF. The file is meant for spreadsheets, and a cell starting with `=`, `+`, `-`, `@`
 * (or a tab or CR) is run as a formula by Excel/LibreOffice (CSV injection, OWASP); such text
 * comes from outside (port names, device names, firmware error text), so it is prefixed with `'`,
 * which spreadsheets show as text.
 */
import type { BenchRow } from './bench-run';

export const BENCH_COLUMNS = [
  'port',
  'chip',
  'mac',
  'flash_size',
  'device_id',
  'outcome',
  'duration_ms',
  'attempts',
  'error',
] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: neutralised and quoted as needed. Numbers are written as they are. */
export function csvField(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = value;
  if (FORMULA_START.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text)) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function benchRowCells(row: BenchRow): (string | number | undefined)[] {
  return [
    row.port,
    row.chip,
    row.mac,
    row.flashSize,
    row.deviceId,
    row.outcome,
    row.durationMs,
    row.attempts,
    row.error,
  ];
}

export function toCsv(rows: readonly BenchRow[]): string {
  const lines = [BENCH_COLUMNS.join(',')];
  for (const row of rows) lines.push(benchRowCells(row).map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}
