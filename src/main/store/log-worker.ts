/**
 * The notification log's worker thread: inserts the rows the hub hands over into `log.db` and
 * answers reads in order (log-protocol.ts). One transaction per batch of rows, committed with
 * `synchronous = FULL` (database.ts): the fsync waits here, not on the hub's loop.
 *
 * Started by log-thread.ts only while the log is busy (log-repo.ts): a thread holds memory of its
 * own (16 MB with V8's and SQLite's defaults, a few MB with the limits below and in log-thread.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromLogWorker, LogAnswer, LogWorkerData, ToLogWorker } from './log-protocol';
import { LogTable, openLogDb } from './log-sql';
import { codeOf } from './storage-errors';

const port = parentPort;
if (port === null) throw new Error('log-worker runs as a worker thread');
const { file } = workerData as LogWorkerData;
const db = openLogDb(file);
// Appends touch the rightmost pages of the table and its two indexes: 256 KB of page cache is
// plenty, and SQLite's default 2 MB per connection was most of what the thread cost in memory.
db.pragma('cache_size = -256');
const table = new LogTable(db);
const insert = db.transaction((rows: ToLogWorker & { t: 'rows' }) => table.insertRows(rows.rows));

async function answer(m: Exclude<ToLogWorker, { t: 'close' }>): Promise<LogAnswer> {
  switch (m.t) {
    case 'rows':
      insert(m);
      return null;
    case 'query':
      return table.query(m.q);
    case 'count':
      return table.count();
    case 'prune':
      return table.prune(m.p);
    case 'snapshot':
      // Rows written meanwhile go through this same connection: SQLite carries them into the
      // copy instead of restarting it.
      await db.backup(m.dest);
      return null;
  }
}

async function handle(m: ToLogWorker): Promise<void> {
  if (m.t === 'close') {
    db.close();
    port?.close();
    return;
  }
  let reply: FromLogWorker;
  try {
    reply = { t: 'ok', id: m.id, value: await answer(m) };
  } catch (err) {
    const code = codeOf(err);
    reply = {
      t: 'failed',
      id: m.id,
      message: err instanceof Error ? err.message : String(err),
      ...(code !== undefined && { code }),
    };
  }
  port?.postMessage(reply);
}

port.postMessage({ t: 'ready' } satisfies FromLogWorker);
// One request at a time, in order: a snapshot's steps yield, and what came after it (rows, a
// close) waits for it.
let queue = Promise.resolve();
port.on('message', (m: ToLogWorker) => {
  queue = queue.then(() => handle(m));
});
