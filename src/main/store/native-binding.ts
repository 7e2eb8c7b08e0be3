/**
 * better-sqlite3 is a native module built for plain Node's ABI (tests, the headless CLI). Inside
 * Electron the hub loads a copy built for Electron's ABI by `npm run electron:native`
 * (scripts/electron-native.js), so both runtimes work from one node_modules and the copy in
 * node_modules/better-sqlite3 is never replaced.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Electron versions as `process.versions.electron` reports them; anything else is refused (it becomes a path). */
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?$/;

/** Where scripts/electron-native.js puts the addon for `electronVersion` (keep the two in step). */
export function electronNativePath(root: string, electronVersion: string): string {
  return join(root, 'build', 'native', `electron-${electronVersion}`, 'better_sqlite3.node');
}

/**
 * The project root: the nearest directory above `from` holding package.json. The bundle lives in
 * out/main/ and the sources in src/main/store/, and Electron launched from a desktop entry has
 * `/` as its working directory, so the cwd cannot be trusted.
 */
export function projectRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/**
 * Inside Electron: the path of the better-sqlite3 addon built for this Electron, if it exists.
 * Undefined in plain Node, or when no such build exists (better-sqlite3 then loads its default,
 * which fails in Electron with an ABI error naming `npm run electron:native`).
 */
export function electronNativeBinding(
  versions: NodeJS.ProcessVersions = process.versions,
  root: string = projectRoot(),
): string | undefined {
  const electron = (versions as NodeJS.ProcessVersions & { electron?: string }).electron;
  if (typeof electron !== 'string' || !VERSION.test(electron)) return undefined;
  const file = electronNativePath(root, electron);
  return existsSync(file) ? file : undefined;
}
