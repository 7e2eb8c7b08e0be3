/**
 * What a Fleetbench backup archive is (issue 12 "Backup, restore"): a zip whose entries mirror the
 * data dir (`fleetbench.db`, `account.db`, `master.key`, `settings.json`, `tls/ca.key`,
 * `firmware/<sha256>`, `apps/<id>/...`) plus `fleetbench-backup.json`, the manifest listing every
 * other entry with its size and SHA-256. Pure: names, rules and the manifest schema, no I/O.
 *
 * The manifest is not called `manifest.json` on purpose: a fw.zip carries one, and a fw.zip given
 * to `restore` must be refused as foreign, not half-understood.
 */
import Type from 'typebox';
import type { BackupManifest } from '../../shared/lan';
import { ACCOUNT_FILE, LOG_FILE, MASTER_KEY_FILE, REGISTRY_FILE } from '../store/data-dir';
import { HubError } from '../../shared/errors';
import { firstProblem } from '../validate';

export const MANIFEST_NAME = 'fleetbench-backup.json';
export const BACKUP_FORMAT = 'fleetbench-backup';
export const BACKUP_VERSION = 1;
/** The manifest of 65k files is ~10 MB of JSON at most; anything bigger is not ours. */
export const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;
/** Entries a backup can hold: a zip without zip64 counts them in 16 bits (0xffff means zip64). */
export const MAX_ARCHIVE_ENTRIES = 65_534;

/** Written by a running hub into its data dir (hub-lock.ts); never archived, never restored. */
export const HUB_LOCK_FILE = 'hub.lock';
/** Where a running hub assembles a backup: inside the data dir, so renames stay on one disk. */
export const BACKUP_TEMP_DIR = 'backup-tmp';

/** The databases every backup holds: a zip without them is not a Fleetbench backup. */
export const REQUIRED_FILES = [REGISTRY_FILE, ACCOUNT_FILE] as const;

/**
 * Data-dir entries a backup leaves out: the live database files (their snapshots go in instead),
 * their WAL and shared-memory files, the lock, and scratch space (SQL snapshots, backups being
 * made, uploads in flight). Everything else, including files other features add later, goes in.
 */
export function isExcluded(relPath: string): boolean {
  return (
    relPath === REGISTRY_FILE ||
    relPath === ACCOUNT_FILE ||
    relPath === LOG_FILE ||
    isScratch(relPath)
  );
}

/** Never part of a data dir's lasting state: neither archived nor restored. */
export function isScratch(relPath: string): boolean {
  const top = relPath.split('/')[0] ?? '';
  if (top === HUB_LOCK_FILE || top === BACKUP_TEMP_DIR || top === 'sql-tmp') return true;
  if (/-(wal|shm|journal)$/.test(relPath)) return true;
  // Temporary names of the firmware library and the app store (content-hash.ts, app-store.ts),
  // files or whole folders (an app being unpacked or removed).
  return relPath
    .split('/')
    .some((seg) => seg.startsWith('.incoming-') || seg.startsWith('.deleting-'));
}

/** Files that let whoever holds the archive act as this hub: the manifest marks them. */
export function isSecret(relPath: string): boolean {
  return (
    relPath === MASTER_KEY_FILE ||
    relPath.endsWith('.key') ||
    relPath === REGISTRY_FILE ||
    relPath === ACCOUNT_FILE
  );
}

/**
 * A path the restore may create: relative, forward slashes, no `.`/`..`/empty segment, no NUL or
 * backslash, not the lock. Stricter than the firmware unzip's rule (safe-unzip.ts) because these
 * names become files in the data dir.
 */
export function isRestorablePath(path: string): boolean {
  if (path.length === 0 || path.length > 1024) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\\\x00-\x1f]/.test(path) || path.startsWith('/') || /^[a-zA-Z]:/.test(path)) return false;
  const segs = path.split('/');
  if (segs.some((s) => s === '' || s === '.' || s === '..')) return false;
  return path !== MANIFEST_NAME && !isScratch(path);
}

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Count = Type.Integer({ minimum: 0 });

export const BackupManifestSchema = Type.Object({
  format: Type.Literal(BACKUP_FORMAT),
  version: Type.Literal(BACKUP_VERSION),
  created: Count,
  app_version: Type.String({ maxLength: 64 }),
  files: Type.Array(
    Type.Object({
      path: Type.String({ minLength: 1, maxLength: 1024 }),
      size: Count,
      sha256: Sha256,
      secret: Type.Optional(Type.Boolean()),
    }),
  ),
  counts: Type.Object({ devices: Count, customers: Count, firmware: Count, apps: Count }),
  data_rows: Type.Optional(Count),
});

export type BackupRefusal =
  | 'not_zip'
  | 'truncated'
  | 'no_manifest'
  | 'foreign'
  | 'version'
  | 'unsafe_path'
  | 'symlink'
  | 'missing_file'
  | 'extra_file'
  | 'size_mismatch'
  | 'sha_mismatch'
  | 'too_large'
  | 'database';

/** The coded refusal of a damaged or foreign archive (`details.reason` says which check). */
export function refuseBackup(reason: BackupRefusal, message: string): HubError {
  return new HubError('backup_invalid', `not a usable Fleetbench backup: ${message}`, { reason });
}

/** Checks a parsed manifest: ours (format), a version we read, safe unique paths, the databases. */
export function checkManifest(value: unknown, maxUnpackedBytes: number): BackupManifest {
  const v = value as { format?: unknown; version?: unknown } | null;
  if (typeof v !== 'object' || v === null || v.format !== BACKUP_FORMAT) {
    throw refuseBackup('foreign', `${MANIFEST_NAME} is not a Fleetbench backup manifest`);
  }
  if (v.version !== BACKUP_VERSION) {
    throw refuseBackup(
      'version',
      `backup format version ${String(v.version)} (this Fleetbench reads version ${BACKUP_VERSION})`,
    );
  }
  const problem = firstProblem(BackupManifestSchema, value);
  if (problem !== null) throw refuseBackup('foreign', `manifest: ${problem}`);
  const m = value as BackupManifest;
  const seen = new Set<string>();
  let total = 0;
  for (const f of m.files) {
    if (!isRestorablePath(f.path)) {
      throw refuseBackup('unsafe_path', `unsafe path "${f.path.slice(0, 200)}"`);
    }
    if (seen.has(f.path)) throw refuseBackup('foreign', `${f.path} is listed twice`);
    seen.add(f.path);
    total += f.size;
  }
  for (const req of REQUIRED_FILES) {
    if (!seen.has(req)) throw refuseBackup('missing_file', `the archive has no ${req}`);
  }
  if (total > maxUnpackedBytes) {
    throw refuseBackup(
      'too_large',
      `it unpacks to ${total} bytes, over backup.maxUnpackedBytes (${maxUnpackedBytes})`,
    );
  }
  return m;
}
