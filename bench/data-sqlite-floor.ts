/**
 * The floor under `DB.Store` ingest (issue 9): the same rows written by SQLite alone, in this
 * process, with no network, no JSON and no hub: the account database's schema (PROTOCOL.md 5,
 * three indexes, two of them by device), the benchmark's ACL query with three bound parameters,
 * one transaction per batch of one row per device (what the hub's group commit gets when every
 * device has one `DB.Store` in flight), committed with `synchronous = NORMAL` and the WAL flushed
 * with `fdatasync`, as group-commit.ts does, on a fresh file. data-ingest.ts runs it after the
 * hub's run, with the same devices and seconds, and reports the hub's rate against it.
 *
 * What the hub's durable rows/s (data-ingest.ts) can at best approach on this machine: the hub
 * also parses every frame, answers every device and runs on the same core.
 *
 * Run: node --import tsx bench/data-sqlite-floor.ts [--devices 1000] [--seconds 10] [--rounds 2]
 */
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/main/store/database';
import { ACCOUNT_MIGRATIONS } from '../src/main/store/migrations';
import { makeTempDir } from './temp-dir';
import { fmtInt } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';
import { currentLoad } from './machine-info';
import { INGEST_QUERY } from './data-bench-common';

export interface FloorResult {
  rows: number;
  rowsPerS: number;
  /** Mean time of one batch's inserts and COMMIT (ms), without the flush. */
  commitMs: number;
}

/** Writes one row per device per transaction for `seconds`. */
export function runFloor(devices: number, seconds: number): FloorResult {
  const dir = makeTempDir('fb-floor-');
  try {
    const db = openDatabase(dir.file('account.db'), ACCOUNT_MIGRATIONS);
    db.pragma('synchronous = NORMAL');
    const stmts = Array.from({ length: devices }, (_, i) =>
      db.prepare(INGEST_QUERY.replace('DEVICE_ID', `bench-device-${String(i).padStart(5, '0')}`)),
    );
    const batch = db.transaction((seq: number) => {
      for (const s of stmts) s.run('2026-01-01 00:00:00', 'ingest', `{"seq":${seq}}`);
    });
    const wal = openSync(dir.file('account.db-wal'), 'r+');
    let rows = 0;
    let seq = 0;
    let commit = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      const c0 = performance.now();
      batch(seq++);
      commit += performance.now() - c0;
      fdatasyncSync(wal);
      rows += devices;
    }
    const wall = performance.now() - t0;
    closeSync(wal);
    db.close();
    return { rows, rowsPerS: (rows * 1000) / wall, commitMs: commit / seq };
  } finally {
    dir.remove();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
    },
  });
  const devices = intFlag(values.devices, 'devices', 1000, 1);
  const seconds = intFlag(values.seconds, 'seconds', 10, 1);
  const rounds = intFlag(values.rounds, 'rounds', 2, 1);
  runMain(
    async () => {
      for (let r = 1; r <= rounds; r++) {
        const f = runFloor(devices, seconds);
        console.log(
          `round ${r}: ${fmtInt(f.rowsPerS)} rows/s (${fmtInt(f.rows)} rows), ` +
            `inserts + COMMIT ${f.commitMs.toFixed(1)} ms per batch of ${devices}; load ${currentLoad().toFixed(1)}`,
        );
      }
    },
    (seconds * rounds + 60) * 1000,
  );
}
