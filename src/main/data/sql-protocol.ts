/**
 * Messages between the hub and an SQL process (sql-executor.ts <-> sql-worker.ts), sent over the
 * fork IPC channel with structured-clone serialization.
 */
export type SqlValue = string | number | null;

export interface SqlResult {
  columns: string[];
  rows: SqlValue[][];
  /** Present (true) when rows were cut at `maxRows` or `maxBytes`. */
  truncated?: true;
  /** Rows changed, for a statement that returns no rows. */
  changes?: number;
}

export type ToSqlWorker =
  | {
      type: 'exec';
      id: number;
      sql: string;
      params: unknown[];
      maxRows: number;
      maxBytes: number;
    }
  | { type: 'snapshot'; id: number; path: string };

export type FromSqlWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: SqlResult }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; message: string; code?: string };

export function isFromSqlWorker(m: unknown): m is FromSqlWorker {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === 'ready' || t === 'result' || t === 'done' || t === 'error';
}
