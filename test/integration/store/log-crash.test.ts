/**
 * The notification log's crash bound (log-repo.ts, README "Durability"): a SIGKILL of the hub's
 * process during load loses from the log only rows of its last LOG_FLUSH_MS (at most
 * LOG_BATCH_ROWS), as a prefix-preserving cut (no gaps, order kept), while every acknowledged
 * shadow write of the same store is there after reopening. Real SQLite files, a real child.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/main/store/store';
import { LOG_BATCH_ROWS, LOG_FLUSH_MS } from '../../../src/main/store/log-repo';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WRITER = join(ROOT, 'test/support/log-crash-writer.ts');
/** Timers fire late on a loaded machine: the margin on top of LOG_FLUSH_MS for the age check. */
const SCHEDULING_SLACK_MS = 400;

interface Killed {
  logs: { i: number; ms: number }[];
  acked: number[];
  /** Whether the log's worker thread was writing (printed after 300 ms of appends). */
  threaded: boolean | null;
}

function runAndKill(dir: string, runMs: number, burst: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, String(burst)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer never got ready:\n${stderr}`));
    }, 20_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (out === '' && d.startsWith('ready')) setTimeout(() => child.kill('SIGKILL'), runMs);
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', () => {
      clearTimeout(timer);
      // Only whole lines count: a line cut by the kill was not fully printed.
      const lines = out.split('\n').slice(0, -1);
      const logs = lines
        .filter((l) => l.startsWith('l '))
        .map((l) => {
          const [, i, ms] = l.split(' ');
          return { i: Number(i), ms: Number(ms) };
        });
      const acked = lines.filter((l) => l.startsWith('a ')).map((l) => Number(l.slice(2)));
      const t = lines.find((l) => l.startsWith('t '));
      resolve({ logs, acked, threaded: t === undefined ? null : t === 't 1' });
    });
  });
}

describe('notification log crash bound', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it.each([
    { burst: 1, writer: 'the loop (1,000 rows/s)', threaded: false },
    { burst: 5, writer: 'the worker thread (5,000 rows/s)', threaded: true },
  ])(
    'SIGKILL while $writer writes loses at most the last LOG_FLUSH_MS of log rows, no acknowledged shadow write',
    async ({ burst, threaded }) => {
      dir = mkdtempSync(join(tmpdir(), 'fb-log-crash-'));
      const killed = await runAndKill(dir, 1500, burst);
      expect(killed.threaded).toBe(threaded);
      const last = killed.logs.at(-1);
      expect(last).toBeDefined();
      expect(killed.acked.length).toBeGreaterThan(10);

      const store = openStore(dir);
      try {
        const rows = await store.log.query({ start: 0, limit: 100_000 });
        const stored = rows.map((r) => (r.data as { i: number }).i);
        // A prefix: 1..n in order, nothing skipped.
        expect(stored).toEqual(stored.map((_, n) => n + 1));
        const lost = killed.logs.filter((l) => l.i > stored.length);
        expect(lost.length).toBeLessThanOrEqual(LOG_BATCH_ROWS);
        // Everything appended well before the last printed row is on disk.
        const oldLost = lost.filter(
          (l) => l.ms < (last?.ms ?? 0) - LOG_FLUSH_MS - SCHEDULING_SLACK_MS,
        );
        expect(oldLost).toEqual([]);
        // Every acknowledged shadow write survived: the stored one is at least the last ack.
        const shadow = store.devices.get('d1')?.shadow as unknown as { version: number };
        expect(shadow.version).toBeGreaterThanOrEqual(killed.acked.at(-1) ?? 0);
      } finally {
        store.close();
      }
    },
    30_000,
  );
});
