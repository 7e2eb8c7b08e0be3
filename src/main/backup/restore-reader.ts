/**
 * Verifies a backup archive and unpacks it into a NEW directory (issue 12: "refusing a damaged or
 * foreign archive with a clear error"). Nothing here touches a data dir: data-dir-swap.ts puts the
 * result in place only once every check passed. The archive comes from a stranger (an upload, a
 * file on a USB stick), so:
 *
 * - it must be a zip (not a truncated one: its end record and directory must be there), with
 *   `fleetbench-backup.json` of our format and version (a random zip or a fw.zip is "foreign");
 * - the manifest and the zip's entries must list exactly the same files, with safe paths (no `..`,
 *   absolute, backslash or control characters) and no symlink entries; files are only ever
 *   created as regular files (`wx`) in a directory made for them;
 * - the manifest is read with firmware/safe-unzip.ts (capped, inflated on the thread pool, CRC
 *   checked); every other entry is streamed (never held in memory), inflated on the thread pool,
 *   cut off as soon as it passes its manifest size, and its SHA-256 and size compared with the
 *   manifest;
 * - both databases must pass SQLite's `quick_check` and not come from a newer schema.
 *
 * The central directory is walked once (firmware/safe-unzip.ts `directoryOf`): entry count,
 * bounds, names and symlinks (zip-directory.ts `isSymlink`) are all judged from that one walk.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, readSync } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import Database from 'better-sqlite3';
import { HubError } from '../../shared/errors';
import type { BackupManifest } from '../../shared/lan';
import type { BackupLimits } from '../config';
import { ACCOUNT_MIGRATIONS, REGISTRY_MIGRATIONS } from '../store/migrations';
import { ACCOUNT_FILE, LOG_FILE, REGISTRY_FILE, fsyncDir, fsyncFile } from '../store/data-dir';
import { LOG_MIGRATIONS } from '../store/log-sql';
import {
  LOCAL_HEADER_SIZE,
  entryDataOffset,
  isSymlink,
  looksLikeZip,
  type ZipEntry,
} from '../firmware/zip-directory';
import {
  checkEntryNames,
  directoryOf,
  fileSource,
  readEntry,
  type ZipLimits,
  type ZipSource,
} from '../firmware/safe-unzip';
import {
  MANIFEST_NAME,
  MAX_ARCHIVE_ENTRIES,
  MAX_MANIFEST_BYTES,
  checkManifest,
  refuseBackup,
  type BackupRefusal,
} from './backup-format';

/** What the zip readers' `details.reason` means for a backup; anything else is damage. */
const ZIP_REASONS: Record<string, BackupRefusal> = {
  unsafe_name: 'unsafe_path',
  too_many_entries: 'too_large',
  bomb: 'too_large',
  size_mismatch: 'size_mismatch',
};

/** Re-codes the zip readers' `image_invalid` / `zip_bomb` as a backup refusal. */
function asRefusal(err: unknown, reason: BackupRefusal): never {
  if (err instanceof HubError && err.kind === 'backup_invalid') throw err;
  if (err instanceof HubError) {
    const zipReason = (err.details as { reason?: unknown } | undefined)?.reason;
    throw refuseBackup(
      (typeof zipReason === 'string' && ZIP_REASONS[zipReason]) || reason,
      err.message,
    );
  }
  throw err;
}

interface Directory {
  src: ZipSource;
  entries: ZipEntry[];
}

/**
 * The one walk of the central directory: entry count, bounds, names (zip-slip) and symlinks are
 * all judged from it.
 */
async function readDirectory(h: FileHandle, limits: BackupLimits): Promise<Directory> {
  const src = fileSource(h, (await h.stat()).size);
  if (!looksLikeZip(await src.read(0, 4))) {
    throw refuseBackup('not_zip', 'the file is not a zip archive');
  }
  let entries: ZipEntry[];
  try {
    entries = await directoryOf(src, manifestLimits(limits));
    checkEntryNames(entries);
  } catch (err) {
    asRefusal(err, 'truncated');
  }
  const link = entries.find(isSymlink);
  if (link) throw refuseBackup('symlink', `"${link.name.slice(0, 200)}" is a symbolic link`);
  return { src, entries };
}

/** Zip limits for the directory and the manifest; the other entries are streamed, not held. */
function manifestLimits(limits: BackupLimits): ZipLimits {
  return {
    maxEntries: Math.min(limits.maxEntries, MAX_ARCHIVE_ENTRIES),
    maxEntryBytes: MAX_MANIFEST_BYTES,
    maxTotalBytes: MAX_MANIFEST_BYTES,
  };
}

/** Where an entry's compressed bytes are in the file. */
async function dataRange(dir: Directory, e: ZipEntry): Promise<number> {
  try {
    const header = await dir.src.read(e.localHeaderOffset, LOCAL_HEADER_SIZE);
    return entryDataOffset(header, e, dir.src.size);
  } catch (err) {
    asRefusal(err, 'truncated');
  }
}

async function readManifest(dir: Directory, limits: BackupLimits): Promise<BackupManifest> {
  const e = dir.entries.find((x) => x.name === MANIFEST_NAME);
  if (!e) {
    throw refuseBackup('no_manifest', `it has no ${MANIFEST_NAME} (a zip, but not a backup)`);
  }
  if (e.compressedSize > MAX_MANIFEST_BYTES || e.declaredSize > MAX_MANIFEST_BYTES) {
    throw refuseBackup('too_large', `${MANIFEST_NAME} is larger than ${MAX_MANIFEST_BYTES} bytes`);
  }
  let text: string;
  try {
    // Inflated on the thread pool, capped, and its CRC-32 checked.
    text = Buffer.from(await readEntry(dir.src, e, manifestLimits(limits))).toString('utf8');
  } catch (err) {
    asRefusal(err, 'truncated');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw refuseBackup('foreign', `${MANIFEST_NAME} is not JSON`);
  }
  return checkManifest(value, limits.maxUnpackedBytes);
}

/** Streams one entry to `dest`, checking its size and SHA-256 against the manifest. */
async function extractEntry(
  archive: string,
  dir: Directory,
  e: ZipEntry,
  want: BackupManifest['files'][number],
  dest: string,
): Promise<void> {
  const start = await dataRange(dir, e);
  const hash = createHash('sha256');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > want.size) {
        return done(refuseBackup('size_mismatch', `${want.path} is larger than its manifest says`));
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
  const source: Readable =
    e.compressedSize === 0
      ? Readable.from([])
      : createReadStream(archive, { start, end: start + e.compressedSize - 1 });
  const out = createWriteStream(dest, { flags: 'wx', mode: 0o600 });
  try {
    if (e.method === 8) await pipeline(source, createInflateRaw(), count, out);
    else await pipeline(source, count, out);
  } catch (err) {
    if (err instanceof HubError) throw err;
    throw refuseBackup('truncated', `${want.path} is damaged: ${(err as Error).message}`);
  }
  if (size !== want.size) {
    throw refuseBackup(
      'size_mismatch',
      `${want.path} holds ${size} bytes, its manifest says ${want.size}`,
    );
  }
  const sha = hash.digest('hex');
  if (sha !== want.sha256) {
    throw refuseBackup('sha_mismatch', `${want.path} does not match its SHA-256 (damaged)`);
  }
  // Durable before the swap: a power cut after it must not leave the new dir with empty files.
  await fsyncFile(dest);
}

/** The first 16 bytes of every SQLite 3 database file (sqlite.org/fileformat.html 1.3.1). */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function checkDatabase(path: string, name: string, known: number): void {
  let db: Database.Database | null = null;
  try {
    // SQLite reads a file shorter than its header as an empty database: not what a backup holds.
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    if (!head.equals(SQLITE_MAGIC)) throw new Error('no SQLite header');
    db = new Database(path, { readonly: true, fileMustExist: true });
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(String(check));
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > known) {
      throw refuseBackup(
        'version',
        `${name} comes from a newer Fleetbench (schema ${version}, this one knows ${known})`,
      );
    }
  } catch (err) {
    if (err instanceof HubError) throw err;
    throw refuseBackup('database', `${name} is not a readable database: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

/**
 * Checks the whole archive and unpacks it into `dest` (created here; must not exist). On any
 * refusal `dest` is removed again and a `backup_invalid` HubError says why.
 */
export async function extractBackup(
  archive: string,
  dest: string,
  limits: BackupLimits,
): Promise<BackupManifest> {
  let h: FileHandle;
  try {
    h = await open(archive, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new HubError('not_found', `${archive}: no such file`);
    }
    throw err;
  }
  let created = false;
  try {
    const dir = await readDirectory(h, limits);
    const manifest = await readManifest(dir, limits);
    const byName = new Map(dir.entries.filter((e) => !e.isDirectory).map((e) => [e.name, e]));
    const listed = new Set(manifest.files.map((f) => f.path));
    for (const name of byName.keys()) {
      if (name !== MANIFEST_NAME && !listed.has(name)) {
        throw refuseBackup('extra_file', `"${name.slice(0, 200)}" is not in the manifest`);
      }
    }
    for (const f of manifest.files) {
      if (!byName.has(f.path)) throw refuseBackup('missing_file', `${f.path} is missing`);
    }
    await mkdir(dest, { mode: 0o700 });
    created = true;
    const dirs = new Set<string>([dest]);
    for (const f of manifest.files) {
      const e = byName.get(f.path);
      const target = join(dest, ...f.path.split('/'));
      if (e) await extractEntry(archive, dir, e, f, target);
      dirs.add(dirname(target));
    }
    checkDatabase(join(dest, REGISTRY_FILE), REGISTRY_FILE, REGISTRY_MIGRATIONS.length);
    checkDatabase(join(dest, ACCOUNT_FILE), ACCOUNT_FILE, ACCOUNT_MIGRATIONS.length);
    // Backups made before log.db hold the log in the registry (moved out when the hub opens it).
    if (byName.has(LOG_FILE)) checkDatabase(join(dest, LOG_FILE), LOG_FILE, LOG_MIGRATIONS.length);
    for (const d of dirs) await fsyncDir(d);
    return manifest;
  } catch (err) {
    if (created) await rm(dest, { recursive: true, force: true });
    throw err;
  } finally {
    await h.close();
  }
}
