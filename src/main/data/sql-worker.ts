/**
 * The SQL process (sql-executor.ts): its own connection to the account database, one statement at
 * a time. A process and not a worker thread: a statement runs inside one native sqlite3_step call
 * that a worker's terminate() cannot interrupt (the thread spins on; better-sqlite3 offers neither
 * sqlite3_interrupt nor a progress handler), while a process can always be killed. SQLite's WAL
 * keeps the file whole when it is: an uncommitted write is simply not there.
 *
 * Argument: the account database file. Messages: sql-protocol.ts.
 */
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { electronNativeBinding } from '../store/native-binding';
import type { FromSqlWorker, SqlResult, SqlValue, ToSqlWorker } from './sql-protocol';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: sql-worker <account.db>\n');
  process.exit(2);
}
const nativeBinding = electronNativeBinding();
const db = new Database(file, {
  fileMustExist: true,
  ...(nativeBinding ? { nativeBinding } : {}),
});
// Waiting for the hub's group commit (a few ms at a time) happens here, off the hub's loop; the
// hub's deadline bounds it.
db.pragma('busy_timeout = 60000');

/**
 * An orphan must not spin on: when the hub dies (even by SIGKILL) the IPC channel closes, but this
 * process cannot hear it while a statement runs in native code. A watchdog thread can: it kills the
 * process once the parent is gone.
 */
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL');
  try { process.kill(workerData.parent, 0); } catch { process.kill(workerData.self, 'SIGKILL'); }
}, 1000);
`;
new Worker(WATCHDOG, {
  eval: true,
  workerData: { parent: process.ppid, self: process.pid },
}).unref();

const send = (m: FromSqlWorker): void => {
  process.send?.(m);
};

/** JSON-safe cell: blobs as base64, integers beyond 2^53 as text. */
function cell(v: unknown): SqlValue {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return String(v);
}

function exec(sql: string, params: unknown[], maxRows: number, maxBytes: number): SqlResult {
  const stmt = db.prepare(sql);
  if (!stmt.reader) {
    const info = stmt.run(...params);
    return { columns: [], rows: [], changes: info.changes };
  }
  const columns = stmt.columns().map((c) => c.name);
  const rows: SqlValue[][] = [];
  let bytes = 2 + JSON.stringify(columns).length;
  let truncated = false;
  // iterate(): rows are read one by one, so a cap stops reading instead of building everything.
  for (const raw of stmt.raw(true).iterate(...params) as Iterable<unknown[]>) {
    const row = raw.map(cell);
    const size = JSON.stringify(row).length + 1;
    if (rows.length >= maxRows || bytes + size > maxBytes) {
      truncated = true;
      break;
    }
    rows.push(row);
    bytes += size;
  }
  return truncated ? { columns, rows, truncated: true } : { columns, rows };
}

process.on('message', (raw: unknown) => {
  const m = raw as ToSqlWorker;
  try {
    if (m.type === 'exec') {
      send({ type: 'result', id: m.id, result: exec(m.sql, m.params, m.maxRows, m.maxBytes) });
    } else {
      // VACUUM INTO reads one snapshot in one read transaction: the copy is consistent however
      // much the hub writes meanwhile (an online backup would restart at every hub commit).
      db.prepare('VACUUM INTO ?').run(m.path);
      send({ type: 'done', id: m.id });
    }
  } catch (err) {
    // A statement must never leave a transaction open between calls (the guard refuses BEGIN,
    // but a failing statement is rolled back by SQLite alone; this is belt and braces).
    if (db.inTransaction) db.exec('ROLLBACK');
    const e = err as { message?: string; code?: unknown };
    send({
      type: 'error',
      id: m.id,
      message: e.message ?? String(err),
      ...(typeof e.code === 'string' && { code: e.code }),
    });
  }
});
process.on('disconnect', () => {
  db.close();
  process.exit(0);
});
send({ type: 'ready' });
