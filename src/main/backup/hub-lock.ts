/**
 * `<dataDir>/hub.lock`: which process serves this data dir and on which port. A running hub writes
 * it when it starts and removes it when it stops; `fleetbench restore` refuses a data dir whose
 * lock names a live process, and `fleetbench backup` finds the running hub's port in it. A lock
 * left by a crashed hub names a dead pid and is ignored. The store itself takes no lock (SQLite's
 * WAL lets CLI commands share a running hub's files), hence this file.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/data-dir';
import { HUB_LOCK_FILE } from './backup-format';

export interface HubLock {
  pid: number;
  /** The HTTP port the hub listens on (REST API and dashboard). */
  port: number;
  /** The address it listens on (`0.0.0.0` for every interface). */
  host?: string;
  started: number;
}

/**
 * Atomic (temp file, rename, directory fsync): `restore` and `backup` read the lock while a hub
 * may be writing it, and a crash mid-write must not leave a half lock that hides a live hub.
 */
export function writeHubLock(dataDir: string, lock: HubLock): void {
  writeFileAtomic(join(dataDir, HUB_LOCK_FILE), JSON.stringify(lock) + '\n', 0o600);
}

/** Removes the lock if it is this process's (a second hub on the dir must not drop the first's). */
export function removeHubLock(dataDir: string, pid = process.pid): void {
  const lock = readHubLock(dataDir);
  if (lock?.pid === pid) rmSync(join(dataDir, HUB_LOCK_FILE), { force: true });
}

export function readHubLock(dataDir: string): HubLock | null {
  try {
    const v = JSON.parse(readFileSync(join(dataDir, HUB_LOCK_FILE), 'utf8')) as Partial<HubLock>;
    if (typeof v.pid !== 'number' || typeof v.port !== 'number') return null;
    return {
      pid: v.pid,
      port: v.port,
      started: typeof v.started === 'number' ? v.started : 0,
      ...(typeof v.host === 'string' && { host: v.host }),
    };
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock of a hub running on this data dir now (this process's own hub included), or null. */
export function runningHub(dataDir: string): HubLock | null {
  const lock = readHubLock(dataDir);
  if (lock === null || !isAlive(lock.pid)) return null;
  return lock;
}

/** Where a client on this machine reaches the hub of a lock (loopback for a wildcard address). */
export function lockUrl(lock: HubLock): string {
  const h = lock.host ?? '127.0.0.1';
  const host = h === '0.0.0.0' || h === '' ? '127.0.0.1' : h === '::' ? '[::1]' : h;
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${lock.port}`;
}
