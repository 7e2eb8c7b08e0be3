/**
 * Makes one consistent backup archive of a data dir, running hub or not (issue 12):
 *
 * 1. Immutable files are hard-linked into a temp dir (a copy where links do not work): firmware
 *    blobs are content-addressed (`firmware/<sha256>`, never rewritten) and app folders are
 *    written once under a temp name and renamed into place. Linking costs no disk and no time and
 *    keeps a blob even if it is deleted while the backup runs.
 * 2. The two databases are snapshotted by the caller's `SnapshotSources`: on a running hub the
 *    registry through SQLite's online backup API on the hub's own connection (its writes do not
 *    restart the copy; steps yield the event loop) and the account database by `VACUUM INTO` in
 *    the SQL process (one read transaction, off the hub's thread, like `GET /api/v2/sql/db`).
 * 3. The immutable files are linked again (those added between 1 and 2), and the small mutable
 *    files (master.key, settings.json, tls/, anything else a feature keeps) are copied.
 * 4. Everything is streamed into `backup.zip` in the temp dir (zip-writer.ts): databases deflated,
 *    the rest stored; then `fleetbench-backup.json` with every entry's size and SHA-256.
 *
 * The archive is written to disk before it is sent: the HTTP answer gets a Content-Length (the
 * dashboard shows progress) and a slow client never holds a database snapshot open.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { BackupManifest } from '../../shared/lan';
import { APP_VERSION } from '../version';
import { ACCOUNT_FILE, LOG_FILE, REGISTRY_FILE } from '../store/data-dir';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  MANIFEST_NAME,
  MAX_ARCHIVE_ENTRIES,
  isExcluded,
  isSecret,
} from './backup-format';
import { ZipFileWriter } from './zip-writer';

/** How the databases are copied: by the running hub, or from the files of a stopped one. */
export interface SnapshotSources {
  dataDir: string;
  /** Writes a consistent copy of the registry (`fleetbench.db`) to `dest`. */
  registry(dest: string): Promise<void>;
  /** Writes a consistent copy of the account database (`account.db`) to `dest`. */
  account(dest: string): Promise<void>;
  /**
   * Writes a consistent copy of the notification log (`log.db`) to `dest`; resolves false when
   * there is none (a stopped hub's data dir from before log.db: its registry holds the log).
   */
  log(dest: string): Promise<boolean>;
}

export interface MadeBackup {
  /** The finished archive, inside `dir`. */
  archive: string;
  size: number;
  manifest: BackupManifest;
  /** The temp dir holding it: remove with `cleanup()` once sent. */
  dir: string;
  cleanup(): Promise<void>;
}

/** Immutable once in place: safe to hard-link instead of copying. */
const isImmutable = (rel: string): boolean =>
  rel.startsWith('firmware/') || rel.startsWith('apps/');

/** Relative paths of the regular files under `root` that a backup takes (symlinks skipped). */
export async function listDataFiles(root: string, rel = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch {
    return []; // gone meanwhile (an app being removed)
  }
  const out: string[] = [];
  for (const e of entries) {
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    if (isExcluded(path)) continue;
    if (e.isDirectory()) out.push(...(await listDataFiles(root, path)));
    else if (e.isFile()) out.push(path);
  }
  return out.sort();
}

async function place(from: string, to: string, linkIt: boolean): Promise<boolean> {
  await mkdir(dirname(to), { recursive: true, mode: 0o700 });
  try {
    if (linkIt) {
      try {
        await link(from, to);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return true;
        if (code === 'ENOENT') return false;
      }
    }
    await copyFile(from, to);
    return true;
  } catch (err) {
    // Deleted between the listing and the copy (a firmware or app removed meanwhile): skip it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function countRows(file: string, sql: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(sql).pluck().get() as number | undefined) ?? 0;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

/** Snapshots, links and copies into `<tempRoot>/<random>/files`, then zips them. */
export async function makeBackup(
  sources: SnapshotSources,
  tempRoot: string,
  now = (): number => Date.now(),
): Promise<MadeBackup> {
  const dir = join(tempRoot, `backup-${randomBytes(6).toString('hex')}`);
  const files = join(dir, 'files');
  await mkdir(files, { recursive: true, mode: 0o700 });
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const root = sources.dataDir;
    const staged = new Set<string>();
    for (const rel of (await listDataFiles(root)).filter(isImmutable)) {
      if (await place(join(root, rel), join(files, rel), true)) staged.add(rel);
    }
    await sources.registry(join(files, REGISTRY_FILE));
    await sources.account(join(files, ACCOUNT_FILE));
    staged.add(REGISTRY_FILE).add(ACCOUNT_FILE);
    if (await sources.log(join(files, LOG_FILE))) staged.add(LOG_FILE);
    for (const rel of await listDataFiles(root)) {
      if (staged.has(rel)) continue;
      if (await place(join(root, rel), join(files, rel), isImmutable(rel))) staged.add(rel);
    }

    if (staged.size + 1 > MAX_ARCHIVE_ENTRIES) {
      throw new Error(`the data dir holds ${staged.size} files, more than a backup can hold`);
    }
    const archive = join(dir, 'backup.zip');
    const zip = new ZipFileWriter(archive);
    const written: BackupManifest['files'] = [];
    try {
      for (const rel of [...staged].sort()) {
        const isDb = rel === REGISTRY_FILE || rel === ACCOUNT_FILE || rel === LOG_FILE;
        const e = await zip.addFile(rel, join(files, rel), isDb || !isImmutable(rel));
        written.push({ ...e, ...(isSecret(rel) && { secret: true }) });
      }
      const registry = join(files, REGISTRY_FILE);
      const manifest: BackupManifest = {
        format: BACKUP_FORMAT,
        version: BACKUP_VERSION,
        created: Math.floor(now() / 1000),
        app_version: APP_VERSION,
        files: written,
        counts: {
          devices: countRows(registry, 'SELECT count(*) FROM devices'),
          customers: countRows(registry, 'SELECT count(*) FROM customers'),
          firmware: countRows(registry, 'SELECT count(*) FROM firmware'),
          apps: new Set(
            written.filter((f) => f.path.startsWith('apps/')).map((f) => f.path.split('/')[1]),
          ).size,
        },
      };
      await zip.addBytes(MANIFEST_NAME, Buffer.from(JSON.stringify(manifest, null, 1)), true);
      const size = await zip.finish();
      // Only the archive is needed now: give the snapshot's disk space back at once.
      await rm(files, { recursive: true, force: true });
      return { archive, size, manifest, dir, cleanup };
    } catch (err) {
      await zip.abort();
      throw err;
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Snapshot sources for a stopped hub (`fleetbench backup --data-dir`): SQLite's online backup
 * from the files (the WAL's committed pages included).
 */
export function fileSources(dataDir: string): SnapshotSources {
  const copy = async (name: string, dest: string): Promise<void> => {
    const path = join(dataDir, name);
    await stat(path);
    const db = new Database(path, { fileMustExist: true });
    try {
      await db.backup(dest);
    } finally {
      db.close();
    }
  };
  return {
    dataDir,
    registry: (dest) => copy(REGISTRY_FILE, dest),
    account: (dest) => copy(ACCOUNT_FILE, dest),
    log: async (dest) => {
      try {
        await stat(join(dataDir, LOG_FILE));
      } catch {
        return false;
      }
      await copy(LOG_FILE, dest);
      return true;
    },
  };
}
