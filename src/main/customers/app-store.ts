/**
 * Customer web apps on disk (issue 10, PROTOCOL.md 4): each uploaded app is a folder
 * `<dataDir>/apps/<app_id>/`, the built-in app a folder of the hub's own files
 * (`resources/customer-app/`).
 *
 * An upload is streamed to a temporary file (capped at `apps.maxZipBytes`), unpacked with the
 * firmware code's safe unzip (hostile names refuse the archive, inflated bytes are capped while
 * they inflate, CRCs checked) into a temporary folder, and only a complete folder is renamed into
 * place: an app is never served half-written. A delete renames the folder away first for the same
 * reason. Temporary files and folders left by a crash are swept at startup.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { APP_ID_PATTERN, type AppObject } from '../../shared/apps';
import { DEFAULT_APP_ID } from '../../shared/customer-app';
import { HubError } from '../../shared/errors';
import type { AppLimits } from '../config';
import { ingestToTemp, TEMP_PREFIX } from '../firmware/content-hash';
import {
  checkEntryNames,
  directoryOf,
  fileSource,
  readEntry,
  type ZipLimits,
  type ZipSource,
} from '../firmware/safe-unzip';
import { randomId } from '../store/secrets';
import { appFileMap } from './app-archive';

/** Folder of the uploaded apps inside a data dir. */
export const APPS_DIR = 'apps';
const TRASH_PREFIX = '.deleting-';
const APP_ID = new RegExp(APP_ID_PATTERN);

/**
 * The built-in app's folder: `resources/customer-app/` of the checkout, found from this module in
 * the sources (src/main/customers/) and in the bundle (out/main/), like the dashboard's build.
 */
export function findBuiltInAppDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, '../../../resources/customer-app'),
    join(here, '../../resources/customer-app'),
  ];
  for (const c of candidates) if (existsSync(join(c, 'index.html'))) return resolve(c);
  return null;
}

/** A file to serve: its absolute path and whether it belongs to the built-in app. */
export interface AppFile {
  path: string;
  builtin: boolean;
}

/** The firmware code's `image_invalid` names the wrong thing here: an app zip is refused. */
function recoded(err: unknown): unknown {
  if (err instanceof HubError && err.kind === 'image_invalid') {
    return new HubError('app_invalid', `app zip refused: ${err.message}`, err.details);
  }
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
    // Two entries with one name (or one differing in case only), or a file where a folder is.
    return new HubError('app_invalid', 'the app zip has entries that collide (same path twice)', {
      reason: 'collision',
    });
  }
  return err;
}

async function folderStats(root: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop() ?? root;
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) stack.push(p);
      else if (d.isFile()) {
        files += 1;
        bytes += (await stat(p)).size;
      }
    }
  }
  return { files, bytes };
}

export class AppStore {
  readonly dir: string;
  private readonly startedAt: number;
  /** Stats of the apps listed so far (apps never change after upload: one walk each). */
  private readonly known = new Map<string, AppObject>();
  /** Uploads between their room check and their rename: they count against `maxApps`. */
  private installing = 0;

  constructor(
    dataDir: string,
    private readonly limits: AppLimits,
    /** The built-in app's folder; null when it is missing (then `/a/default/` is a 404). */
    readonly builtInDir: string | null,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.dir = join(dataDir, APPS_DIR);
    this.startedAt = now();
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(this.dir)) {
      if (f.startsWith(TEMP_PREFIX) || f.startsWith(TRASH_PREFIX)) {
        rmSync(join(this.dir, f), { recursive: true, force: true });
      }
    }
  }

  /** Streams an upload into a temporary file in the apps folder (413 `too_large` past the cap). */
  async stage(source: Readable): Promise<string> {
    this.checkRoom();
    return (await ingestToTemp(source, this.dir, this.limits.maxZipBytes, 'the app zip')).path;
  }

  /** Unpacks a staged zip into a new app; the staged file is removed whatever happens. */
  async install(zipPath: string): Promise<AppObject> {
    this.checkRoom();
    this.installing += 1;
    const tmp = join(this.dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      const handle = await open(zipPath, 'r');
      let unpacked: { files: number; bytes: number };
      try {
        const src = fileSource(handle, (await handle.stat()).size);
        await mkdir(tmp, { mode: 0o700 });
        unpacked = await this.unpack(src, tmp);
      } finally {
        await handle.close();
      }
      this.checkRoom(1);
      const id = randomId('', 12);
      const final = join(this.dir, id);
      await rename(tmp, final);
      const created = this.now();
      await utimes(final, created, created);
      const app: AppObject = { app_id: id, ...unpacked, created, builtin: false };
      this.known.set(id, app);
      return app;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw recoded(err);
    } finally {
      this.installing -= 1;
      await rm(zipPath, { force: true });
    }
  }

  /** Removes a staged zip that will not be installed. */
  async discard(zipPath: string | undefined): Promise<void> {
    if (zipPath !== undefined) await rm(zipPath, { force: true });
  }

  /** Every app, the built-in one first, then the uploads oldest first. */
  async list(): Promise<AppObject[]> {
    const out: AppObject[] = [];
    const builtin = await this.builtIn();
    if (builtin) out.push(builtin);
    const ids = (await readdir(this.dir)).filter((f) => APP_ID.test(f));
    const apps: AppObject[] = [];
    for (const id of ids) {
      const app = await this.stats(id);
      if (app) apps.push(app);
    }
    apps.sort((a, b) => a.created - b.created || a.app_id.localeCompare(b.app_id));
    return [...out, ...apps];
  }

  async remove(appId: string): Promise<void> {
    if (appId === DEFAULT_APP_ID) throw new HubError('app_builtin');
    const root = this.uploadedRoot(appId);
    const trash = join(this.dir, `${TRASH_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await rename(root, trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(appId);
      throw err;
    }
    this.known.delete(appId);
    await rm(trash, { recursive: true, force: true });
  }

  /**
   * The folder of an app, or `app_not_found`. `segments` come from `appFileSegments` (no `..`,
   * no separators); the joined path is still checked to stay inside the app's folder.
   */
  async resolveFile(appId: string, segments: readonly string[]): Promise<AppFile> {
    const builtin = appId === DEFAULT_APP_ID;
    const root = builtin ? this.builtInDir : this.uploadedRoot(appId);
    if (root === null) throw new HubError('app_not_found', 'the built-in app is not installed');
    const path = resolve(root, ...segments);
    if (!path.startsWith(root + sep)) throw new HubError('not_found', 'no such file');
    return { path, builtin };
  }

  /** Whether the app exists (its folder is in place). */
  async exists(appId: string): Promise<boolean> {
    const root = appId === DEFAULT_APP_ID ? this.builtInDir : this.uploadedRootOrNull(appId);
    if (root === null) return false;
    return stat(root).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  private uploadedRootOrNull(appId: string): string | null {
    return APP_ID.test(appId) && appId !== DEFAULT_APP_ID ? join(this.dir, appId) : null;
  }

  private uploadedRoot(appId: string): string {
    const root = this.uploadedRootOrNull(appId);
    if (root === null) throw notFound(appId);
    return root;
  }

  private async builtIn(): Promise<AppObject | null> {
    if (this.builtInDir === null) return null;
    const cached = this.known.get(DEFAULT_APP_ID);
    if (cached) return cached;
    const app: AppObject = {
      app_id: DEFAULT_APP_ID,
      ...(await folderStats(this.builtInDir)),
      created: this.startedAt,
      builtin: true,
    };
    this.known.set(DEFAULT_APP_ID, app);
    return app;
  }

  private async stats(id: string): Promise<AppObject | null> {
    const cached = this.known.get(id);
    if (cached) return cached;
    const root = join(this.dir, id);
    try {
      const s = await stat(root);
      if (!s.isDirectory()) return null;
      const app: AppObject = {
        app_id: id,
        ...(await folderStats(root)),
        created: Math.floor(s.mtimeMs / 1000),
        builtin: false,
      };
      this.known.set(id, app);
      return app;
    } catch {
      return null; // deleted meanwhile
    }
  }

  /** 413 `apps_full` when `maxApps` apps (plus uploads in progress, minus `own`) are stored. */
  private checkRoom(own = 0): void {
    const stored = readdirSync(this.dir).filter((f) => APP_ID.test(f)).length;
    if (stored + this.installing - own >= this.limits.maxApps) {
      throw new HubError(
        'apps_full',
        `the hub holds ${stored} apps, its limit (apps.maxApps = ${this.limits.maxApps}); delete one first`,
      );
    }
  }

  /**
   * Inflates the kept entries one by one into `into`, capped by `maxUnpackedBytes` in all: the
   * directory is read once, and one entry's bytes are in memory at a time.
   */
  private async unpack(src: ZipSource, into: string): Promise<{ files: number; bytes: number }> {
    const max = this.limits.maxUnpackedBytes;
    const limitsFor = (left: number): ZipLimits => ({
      maxEntries: this.limits.maxFiles,
      maxEntryBytes: left,
      maxTotalBytes: left,
    });
    const all = await directoryOf(src, limitsFor(max));
    checkEntryNames(all);
    const entries = all.filter((e) => !e.isDirectory);
    const map = appFileMap(entries.map((e) => e.name));
    let bytes = 0;
    let files = 0;
    for (const e of entries) {
      const path = map.get(e.name);
      if (path === undefined) continue;
      const data = await readEntry(src, e, limitsFor(max - bytes));
      const target = join(into, ...path.split('/'));
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await writeFile(target, data, { flag: 'wx', mode: 0o600 });
      bytes += data.length;
      files += 1;
    }
    return { files, bytes };
  }
}

function notFound(appId: string): HubError {
  return new HubError('app_not_found', `no app '${appId.slice(0, 64)}'`);
}
