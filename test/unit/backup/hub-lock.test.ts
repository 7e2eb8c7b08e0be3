/**
 * `hub.lock` is replaced atomically (backup/hub-lock.ts via store/data-dir.ts `writeFileAtomic`):
 * a reader (restore, backup) sees the old lock or the new one, never a truncated one, because the
 * new lock is a new file renamed over the old one rather than the old file rewritten in place.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readHubLock, removeHubLock, writeHubLock } from '../../../src/main/backup/hub-lock';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('hub.lock', () => {
  it('is written as a new file renamed over the old one, 0600, with no temp file left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-lock-'));
    dirs.push(dir);
    writeHubLock(dir, { pid: process.pid, port: 1, started: 1 });
    const first = statSync(join(dir, 'hub.lock'));
    writeHubLock(dir, { pid: process.pid, port: 2, host: '::', started: 2 });
    const second = statSync(join(dir, 'hub.lock'));
    // In-place rewriting (truncate, then write) keeps the inode: a reader could see it empty.
    expect(second.ino).not.toBe(first.ino);
    if (process.platform !== 'win32') expect(second.mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['hub.lock']);
    expect(readHubLock(dir)).toEqual({ pid: process.pid, port: 2, host: '::', started: 2 });
    removeHubLock(dir);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a write that fails leaves the old lock and no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-lock-'));
    dirs.push(dir);
    writeHubLock(dir, { pid: process.pid, port: 1, started: 1 });
    expect(() => writeHubLock(join(dir, 'missing'), { pid: 1, port: 2, started: 2 })).toThrow();
    expect(readdirSync(dir)).toEqual(['hub.lock']);
    expect(readHubLock(dir)?.port).toBe(1);
  });
});
