/**
 * Messages between the hub and the notification log's worker thread (log-worker.ts). Requests
 * carry an id and are answered in the order they were sent: rows sent before a query are
 * committed before it runs, so the hub always reads its own rows.
 */
import type { LogEntry } from '../../shared/types';
import type { LogPrune, LogQuery, LogRows } from './log-sql';

export type ToLogWorker =
  | { t: 'rows'; id: number; rows: LogRows }
  | { t: 'query'; id: number; q: LogQuery }
  | { t: 'count'; id: number }
  | { t: 'prune'; id: number; p: LogPrune }
  /** A consistent copy of the file at `dest` (a backup), by SQLite's online backup. */
  | { t: 'snapshot'; id: number; dest: string }
  /** Close the file and end the thread once everything before it is done. */
  | { t: 'close' };

/** What each request resolves with: nothing for rows, entries, a count, rows removed. */
export type LogAnswer = null | LogEntry[] | number;

export type FromLogWorker =
  /** Sent once the file is open: from then on, requests may have been written. */
  | { t: 'ready' }
  | { t: 'ok'; id: number; value: LogAnswer }
  /** `code`: SQLite's or the system's error code, so the hub can map it (storage-errors.ts). */
  | { t: 'failed'; id: number; message: string; code?: string };

/** What the worker is started with (`workerData`). */
export interface LogWorkerData {
  file: string;
}
