/**
 * The data dir holds the registry, the account database and the master key: it is private to the
 * user (owner-only permissions), whoever created it. Also the one set of fsync helpers: a file's
 * bytes, and a directory's entries (a rename or a new file survives a power cut only once its
 * directory is synced), and the atomic small-file write built on them.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const REGISTRY_FILE = 'fleetbench.db';
export const ACCOUNT_FILE = 'account.db';
export const MASTER_KEY_FILE = 'master.key';
/** The notification log (log-sql.ts): a file of its own, so a worker thread can write it. */
export const LOG_FILE = 'log.db';

export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked by umask and ignored for an existing dir: set it explicitly.
  if (process.platform !== 'win32') chmodSync(dir, 0o700);
}

/** Makes a file owner-only if it exists (database files are created with the umask's mode). */
export function makePrivate(path: string): void {
  if (process.platform !== 'win32' && existsSync(path)) chmodSync(path, 0o600);
}

export function readMasterKeyFile(dir: string): string | null {
  const path = join(dir, MASTER_KEY_FILE);
  if (!existsSync(path)) return null;
  // A key file restored from a backup or written by hand keeps its mode; the hub reuses it, so
  // it is made owner-only here like every other file in the data dir.
  makePrivate(path);
  const key = readFileSync(path, 'utf8').trim();
  return key === '' ? null : key;
}

export function writeMasterKeyFile(dir: string, key: string): void {
  const path = join(dir, MASTER_KEY_FILE);
  writeFileSync(path, key + '\n', { mode: 0o600 });
  makePrivate(path);
}

/** Flushes a file's bytes to disk (on the thread pool). */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// Windows cannot open a directory as a file (and NTFS journals renames): nothing to sync there.
const CAN_SYNC_DIRS = process.platform !== 'win32';

/** Flushes a directory's entries (renames, new files) to disk (on the thread pool). */
export async function fsyncDir(path: string): Promise<void> {
  if (!CAN_SYNC_DIRS) return;
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `fsyncDir` for code that runs before the hub serves (start-up, the data dir swap). */
export function fsyncDirSync(path: string): void {
  if (!CAN_SYNC_DIRS) return;
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces a small file atomically: a temp file beside it, written and fsynced, renamed over it,
 * and the directory fsynced. A crash leaves the old file or the new one, never half of one.
 */
export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(dirname(path));
}
