/**
 * `serve --demo N` and the process's file limit (issue 7 item 2): the CLI runs under util-linux
 * `prlimit`, the way a shell with a low `ulimit -n` would start it. A demo that cannot fit is
 * refused before anything starts, with the numbers; where the hard limit allows, the soft limit
 * is raised and the demo runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, stopChild } from '../../support/cli-runner';

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'fb-fd-limit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serveArgs(dataDir: string, demo: number): string[] {
  const a = ['serve', '--host', '127.0.0.1', '--port', '0', '--tls-port', 'off'];
  return [...a, '--data-dir', dataDir, '--demo', String(demo)];
}

describe.skipIf(!hasPrlimit)('serve --demo under a file limit', () => {
  it('refuses a demo that cannot fit, naming what it needs and the limit', () => {
    const dataDir = join(dir, 'refused');
    const r = spawnSync(
      'prlimit',
      ['--nofile=256', process.execPath, BIN, ...serveArgs(dataDir, 1000)],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status, r.stderr).toBe(1);
    const line = r.stderr.split('\n')[0] ?? '';
    expect(line).toMatch(
      /^fleetbench: error: a demo of 1000 devices needs ~(\d+) file descriptors .* the file limit is 256; raise it \(ulimit -n \1/,
    );
    const need = Number(/needs ~(\d+)/.exec(line)?.[1]);
    expect(need).toBeGreaterThan(2000);
    // Refused before anything started: no data dir was created.
    expect(existsSync(dataDir)).toBe(false);
  });

  it('runs the demo when the hard limit leaves room (the soft limit is raised)', async () => {
    const dataDir = join(dir, 'raised');
    const child = spawn(
      'prlimit',
      ['--nofile=256:4096', process.execPath, BIN, ...serveArgs(dataDir, 300)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 20_000);
        child.stdout.on('data', () => {
          if (/demo fleet: 300/.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
      });
      const limits = spawnSync('prlimit', ['--pid', String(child.pid), '--nofile', '--raw'], {
        encoding: 'utf8',
      });
      // prlimit's pid is the hub's: it execs node. Soft limit is now the hard one.
      expect(limits.stdout).toMatch(/NOFILE\s.*\s4096\s+4096/);
    } finally {
      await stopChild(child);
    }
  });
});
