/**
 * What a notification log row costs SQLite with each device index (issue 11): the index keyed by
 * device first (log.db migration 1), by block of 4,096 seqs first (migration 2, today's), and no
 * device index at all (the floor). Rows go in as the log's writer commits them: batches of
 * `--batch` rows (700 is 100 ms of 7,000 rows/s), each one transaction with synchronous = FULL,
 * device ids drawn at random from `--devices` of them, with the log thread's page cache (256 KiB,
 * log-worker.ts; `--cache-kib`) and its temp store (in memory, log-sql.ts; `--temp-store file` is
 * SQLite's default, where a batch's statement journal spills to a file). Reports CPU (user +
 * system) per row, in one process, the layouts taking turns.
 *
 * Run: node --import tsx bench/log-insert.ts [--devices 256,10000] [--rows 140000] [--batch 700]
 *      [--rounds 2] [--cache-kib 256] [--temp-store memory|file] [--data-bytes 4]
 */
import { parseArgs } from 'node:util';
import { LOG_MIGRATIONS, LogTable } from '../src/main/store/log-sql';
import { openDatabase } from '../src/main/store/database';
import { makeTempDir } from './temp-dir';
import { intFlag, isMain, runMain } from './bench-main';
import { median } from './bench-report';

type Layout = 'device first' | 'block first' | 'none';
const LAYOUTS: readonly Layout[] = ['device first', 'block first', 'none'];
type TempStore = 'memory' | 'file';

/** CPU microseconds per row for one layout. */
export function insertCost(
  layout: Layout,
  devices: number,
  rows: number,
  batch: number,
  cacheKib: number,
  tempStore: TempStore = 'memory',
  data = 'null',
): number {
  const tmp = makeTempDir('fb-bench-log-');
  try {
    const migrations = layout === 'device first' ? LOG_MIGRATIONS.slice(0, 1) : LOG_MIGRATIONS;
    const db = openDatabase(tmp.file('log.db'), migrations);
    db.pragma(`cache_size = -${cacheKib}`);
    db.pragma(`temp_store = ${tempStore === 'memory' ? 'MEMORY' : 'DEFAULT'}`);
    if (layout === 'none') db.exec('DROP INDEX notifications_device_block');
    const table = new LogTable(db);
    const ids = Array.from({ length: devices }, () => Math.random().toString(36).slice(2, 14));
    const c0 = process.cpuUsage();
    for (let done = 0; done < rows; done += batch) {
      const cols: (number | string)[] = [];
      for (let j = 0; j < batch; j++) {
        const id = ids[Math.floor(Math.random() * devices)] ?? '';
        cols.push(Date.now(), 'rpc.in.Sys.GetInfo', id, data);
      }
      db.transaction(() => table.insertRows(cols))();
    }
    const c = process.cpuUsage(c0);
    db.close();
    return (c.user + c.system) / rows;
  } finally {
    tmp.remove();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      rows: { type: 'string' },
      batch: { type: 'string' },
      rounds: { type: 'string' },
      'cache-kib': { type: 'string' },
      'temp-store': { type: 'string' },
      'data-bytes': { type: 'string' },
    },
  });
  const counts = (values.devices ?? '256,10000').split(',').map((v) => intFlag(v, 'devices', 1));
  const rows = intFlag(values.rows, 'rows', 140_000, 1);
  const batch = intFlag(values.batch, 'batch', 700, 1);
  const rounds = intFlag(values.rounds, 'rounds', 2, 1);
  const cacheKib = intFlag(values['cache-kib'], 'cache-kib', 256, 1);
  const tempStore = values['temp-store'] ?? 'memory';
  if (tempStore !== 'memory' && tempStore !== 'file') {
    throw new Error(`--temp-store must be memory or file, got ${tempStore}`);
  }
  // A row's data text: 'null' by default; `--data-bytes N` gives a JSON string of N bytes.
  const dataBytes = intFlag(values['data-bytes'], 'data-bytes', 4, 4);
  const data = dataBytes === 4 ? 'null' : JSON.stringify('x'.repeat(dataBytes - 2));
  runMain(async () => {
    console.log(`| devices | ${LAYOUTS.map((l) => `${l}, us/row`).join(' | ')} |`);
    console.log(`|---|${LAYOUTS.map(() => '---').join('|')}|`);
    for (const n of counts) {
      const runs = new Map<Layout, number[]>(LAYOUTS.map((l) => [l, []]));
      for (let r = 0; r < rounds; r++)
        for (const l of LAYOUTS)
          runs.get(l)?.push(insertCost(l, n, rows, batch, cacheKib, tempStore, data));
      const cell = (l: Layout): string => median(runs.get(l) ?? []).toFixed(1);
      console.log(`| ${n} | ${LAYOUTS.map(cell).join(' | ')} |`);
    }
  }, 600_000);
}
