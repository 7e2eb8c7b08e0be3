/**
 * Turns a query result into a time-series chart's data (uPlot's aligned columns): one time column
 * on x, every numeric column as a series. Pure, so the rules are unit-tested and the page only
 * draws.
 *
 * - Time column: the first column named timestamp / time / t / ts / date (any case). Its cells may
 *   be SQLite `CURRENT_TIMESTAMP` text (`2026-12-05 19:00:00`, UTC), ISO 8601 with or without a
 *   zone (none = UTC, as SQLite writes it), or unix seconds / milliseconds (numbers or numeric
 *   text; above 1e11 it is milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973).
 * - Series: columns whose cells are all numbers (numeric text counts, null is a gap), and, in a
 *   `message` column of JSON objects (what `DB.Save` stores), each numeric field up to two levels
 *   deep (`message.temp`, `message.env.hum`). `json_extract(message,'$.temp') AS temp` in the
 *   query does the same on the hub and names the series.
 * - Rows come sorted by time (the usual `ORDER BY timestamp DESC` arrives reversed); rows whose
 *   time cannot be read are dropped and counted.
 */
import type { Json } from '../../shared/types';
import type { SqlResult } from './sql-result';

export const TIME_COLUMN_NAMES = ['timestamp', 'time', 't', 'ts', 'date'];
/** More lines than this stop being readable; the first ones are kept. */
export const MAX_SERIES = 8;
const MESSAGE_SAMPLE = 200;

export interface ChartData {
  timeColumn: string;
  labels: string[];
  /** uPlot aligned data: x in unix seconds ascending, then one array per label. */
  data: [number[], ...(number | null)[][]];
  /** Rows left out because their time could not be read. */
  skipped: number;
}

export type ChartOutcome = { ok: true; chart: ChartData } | { ok: false; reason: string };

const ISO =
  /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

function epochSeconds(n: number): number {
  return Math.abs(n) >= 1e11 ? n / 1000 : n;
}

/** Unix seconds of a time cell, or null. */
export function parseTime(v: Json | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? epochSeconds(v) : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (NUMERIC.test(s)) return epochSeconds(Number(s));
  const m = ISO.exec(s);
  if (!m) return null;
  const zone = m[3] === undefined ? 'Z' : m[3].toUpperCase() === 'Z' ? 'Z' : m[3];
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${zone}`);
  return Number.isNaN(ms) ? null : ms / 1000;
}

function numberOf(v: Json | undefined): number | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && NUMERIC.test(v.trim())) return Number(v);
  return undefined; // not numeric: the column is no series
}

function parseObject(v: Json | undefined): Record<string, Json> | null {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v;
  if (typeof v !== 'string' || !v.startsWith('{')) return null;
  try {
    const o: unknown = JSON.parse(v);
    return typeof o === 'object' && o !== null && !Array.isArray(o)
      ? (o as Record<string, Json>)
      : null;
  } catch {
    return null;
  }
}

/** Numeric leaves up to two levels deep: `temp`, `env.hum`. */
function numericPaths(o: Record<string, Json>, out: Set<string>): void {
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'number') out.add(k);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) if (typeof v2 === 'number') out.add(`${k}.${k2}`);
    }
  }
}

function pick(o: Record<string, Json> | null, path: string): number | null {
  if (!o) return null;
  const dot = path.indexOf('.');
  const v =
    dot < 0
      ? o[path]
      : ((o[path.slice(0, dot)] as Record<string, Json> | undefined)?.[path.slice(dot + 1)] ??
        null);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

interface Source {
  label: string;
  /** The cell of row `i` (`row` is `r.rows[i]`). */
  value(row: Json[], i: number): number | null;
}

export function toChartData(r: Pick<SqlResult, 'columns' | 'rows'>): ChartOutcome {
  const timeIdx = r.columns.findIndex((c) => TIME_COLUMN_NAMES.includes(c.toLowerCase()));
  if (timeIdx < 0)
    return { ok: false, reason: `no time column (name one ${TIME_COLUMN_NAMES.join(', ')})` };
  const timeColumn = r.columns[timeIdx] ?? '';

  const sources: Source[] = [];
  let messageIdx = -1;
  let messagePaths: string[] = [];
  r.columns.forEach((name, ci) => {
    if (ci === timeIdx) return;
    let numbers = 0;
    let numeric = true;
    for (const row of r.rows) {
      const n = numberOf(row[ci]);
      if (n === undefined) {
        numeric = false;
        break;
      }
      if (n !== null) numbers++;
    }
    if (numeric && numbers > 0) {
      sources.push({ label: name, value: (row) => numberOf(row[ci]) ?? null });
      return;
    }
    if (name.toLowerCase() === 'message' && messageIdx < 0) {
      const paths = new Set<string>();
      for (const row of r.rows.slice(0, MESSAGE_SAMPLE)) {
        const o = parseObject(row[ci]);
        if (o) numericPaths(o, paths);
      }
      if (paths.size > 0) {
        messageIdx = ci;
        messagePaths = [...paths];
      }
    }
  });

  if (messageIdx >= 0) {
    // Each message is parsed once, not once per field.
    const parsed = r.rows.map((row) => parseObject(row[messageIdx]));
    const name = r.columns[messageIdx] ?? 'message';
    for (const path of messagePaths) {
      sources.push({ label: `${name}.${path}`, value: (_row, i) => pick(parsed[i] ?? null, path) });
    }
  }
  if (sources.length === 0) return { ok: false, reason: 'no numeric column to draw' };
  const used = sources.slice(0, MAX_SERIES);

  const times: number[] = [];
  const order: number[] = [];
  r.rows.forEach((row, i) => {
    const t = parseTime(row[timeIdx]);
    if (t !== null) {
      times[i] = t;
      order.push(i);
    }
  });
  if (order.length === 0) return { ok: false, reason: `no readable time in ${timeColumn}` };
  let sorted = true;
  for (let k = 1; k < order.length && sorted; k++)
    sorted = (times[order[k - 1] ?? 0] ?? 0) <= (times[order[k] ?? 0] ?? 0);
  if (!sorted) order.sort((a, b) => (times[a] ?? 0) - (times[b] ?? 0));

  const xs = order.map((i) => times[i] ?? 0);
  const ys = used.map((s) => order.map((i) => s.value(r.rows[i] ?? [], i)));
  return {
    ok: true,
    chart: {
      timeColumn,
      labels: used.map((s) => s.label),
      data: [xs, ...ys],
      skipped: r.rows.length - order.length,
    },
  };
}
