/**
 * `serve --demo N` and the process's file limit (issue 7 item 2): the CLI runs under util-linux
 * `prlimit`, the way a shell with a low `ulimit -n` would start it. The demo devices run in a
 * child process, so the hub holds about one descriptor per device. A demo that cannot fit is
 * refused before anything starts, with the numbers; where the hard limit allows, the soft limit
 * is raised and the demo runs; the child goes when the hub stops, and when it dies.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
    // One descriptor per device in the hub (the devices' own sockets are in the child) + 512.
    expect(need).toBeGreaterThan(1000 + 512);
    expect(need).toBeLessThan(2000);
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
    let demo: number | null = null;
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
      const hub = child.pid ?? 0;
      const limits = spawnSync('prlimit', ['--pid', String(hub), '--nofile', '--raw'], {
        encoding: 'utf8',
      });
      // prlimit's pid is the hub's: it execs node. Soft limit is now the hard one.
      expect(limits.stdout).toMatch(/NOFILE\s.*\s4096\s+4096/);
      await onlineReaches(out, 300);
      // The devices' sockets are in a child process: the hub holds ~1 descriptor per device.
      demo = demoChildOf(hub);
      expect(demo).not.toBeNull();
      expect(fdCount(hub)).toBeLessThan(300 + 150);
      expect(fdCount(demo ?? 0)).toBeGreaterThanOrEqual(300);
    } finally {
      await stopChild(child);
    }
    // Stopping the hub stopped its demo child too.
    await until(() => !alive(demo ?? 0), 'the demo child to exit after the hub stopped');
  });

  it('the demo child dies with the hub (SIGKILL leaves no orphan)', async () => {
    const dataDir = join(dir, 'killed');
    const child = spawn(process.execPath, [BIN, ...serveArgs(dataDir, 20)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await until(() => /demo fleet: 20/.test(out), `the demo to start:\n${out}`);
      await onlineReaches(out, 20);
      const demo = demoChildOf(child.pid ?? 0);
      expect(demo).not.toBeNull();
      child.kill('SIGKILL');
      await until(() => !alive(demo ?? 0), 'the demo child to exit after its hub died');
    } finally {
      // stopChild waits for an exit; a hub killed above has already had its own.
      if (child.exitCode === null && child.signalCode === null) await stopChild(child);
    }
  });
});

/** The pid of the `demo-fleet-child` process whose parent is `hub`, or null. */
function demoChildOf(hub: number): number | null {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== hub) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('demo-fleet-child')) {
        return Number(name);
      }
    } catch {
      // exited meanwhile
    }
  }
  return null;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Running (an exited process not yet reaped by its new parent is a zombie: not alive). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls GET /api/v2/hub (URL and key from the serve output) until `online` devices are up. */
async function onlineReaches(out: string, online: number): Promise<void> {
  const key = /^ {2}master key: (\S+)/m.exec(out)?.[1];
  const api = /^ {2}REST API: +(\S+)/m.exec(out)?.[1];
  if (!key || !api) throw new Error(`no key or URL in:\n${out}`);
  let last = -1;
  const deadline = Date.now() + 30_000;
  while (last !== online) {
    if (Date.now() > deadline) throw new Error(`online ${last}, expected ${online}`);
    const res = await fetch(`${api}/hub`, { headers: { authorization: `Bearer ${key}` } });
    last = ((await res.json()) as { online: number }).online;
    if (last !== online) await new Promise((r) => setTimeout(r, 200));
  }
}
