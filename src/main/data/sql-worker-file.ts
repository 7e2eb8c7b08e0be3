/** Where the SQL process entry lives and how to start it (worker-entry.ts). */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findWorkerEntry, workerLaunch } from '../worker-entry';

export function defaultSqlWorkerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return findWorkerEntry(here, 'sql-worker', join(here, 'sql-worker.ts'));
}

/** The file to fork and the node flags it needs. */
export function sqlWorkerLaunch(entry: string): { file: string; execArgv: string[] } {
  return workerLaunch(entry, 'sql-worker');
}
