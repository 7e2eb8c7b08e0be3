/**
 * The data dir holds the registry, the account database and the master key: it is private to the
 * user (owner-only permissions), whoever created it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REGISTRY_FILE = 'fleetbench.db';
export const ACCOUNT_FILE = 'account.db';
export const MASTER_KEY_FILE = 'master.key';

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
