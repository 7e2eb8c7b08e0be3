/**
 * A SQL process whose hub dies (SIGKILL, no cleanup) while it runs a runaway statement kills
 * itself within seconds (the watchdog thread of src/main/data/sql-worker.ts): it cannot hear the
 * IPC channel close while SQLite spins in native code.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { waitFor } from '../../support/hub-harness';

const HOST = fileURLToPath(new URL('./sql-orphan-host.ts', import.meta.url));
let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('the SQL process of a killed hub stops its runaway statement and exits', async () => {
  dir = mkdtempSync(join(tmpdir(), 'fb-sql-orphan-'));
  const host = spawn(process.execPath, ['--import', 'tsx', HOST, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  host.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => /pid \d+/.test(out), 20_000);
  const pid = Number(/pid (\d+)/.exec(out)?.[1]);
  expect(alive(pid)).toBe(true);
  await new Promise((r) => setTimeout(r, 500));
  expect(alive(pid)).toBe(true);
  host.kill('SIGKILL');
  await waitFor(() => !alive(pid), 5_000);
}, 30_000);
