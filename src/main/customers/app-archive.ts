/**
 * Where the files of an uploaded app zip go (issue 10, PROTOCOL.md 4: "files at the zip root or
 * under one top folder"). Pure: takes the entry names (already checked safe by safe-unzip) and
 * returns, for each file to keep, its path inside the app.
 *
 * Zipping a folder (`zip -r app.zip myapp/`, Finder's "Compress", GitHub's "Download ZIP") puts
 * everything under one top folder; zipping its contents puts them at the root. Both serve the same.
 * macOS adds a `__MACOSX/` tree of resource forks: it is skipped, so it never counts as a second
 * top folder and is never served.
 */
import { HubError } from '../../shared/errors';

const INDEX = 'index.html';

function isJunk(name: string): boolean {
  return name.startsWith('__MACOSX/') || name === '.DS_Store' || name.endsWith('/.DS_Store');
}

/**
 * Maps each kept zip entry name to its path in the app. Directory entries (ending in `/`) and
 * macOS junk are dropped; one top folder is stripped when the root has no `index.html` and every
 * file lies under that folder. Throws `app_invalid` when no `index.html` would be served at the
 * app's root.
 */
export function appFileMap(names: readonly string[]): Map<string, string> {
  const files = names.filter((n) => !n.endsWith('/') && !isJunk(n));
  let prefix = '';
  if (!files.includes(INDEX)) {
    const first = files[0]?.split('/')[0];
    const top = first === undefined ? '' : `${first}/`;
    const oneTop =
      files.length > 0 && files.every((n) => n.startsWith(top) && n.length > top.length);
    if (!oneTop || !files.includes(`${top}${INDEX}`)) {
      throw new HubError(
        'app_invalid',
        files.length === 0
          ? 'the zip holds no files; an app needs an index.html'
          : 'the zip has no index.html at its root or in its one top folder',
        { reason: 'no_index' },
      );
    }
    prefix = top;
  }
  const map = new Map<string, string>();
  for (const n of files) map.set(n, n.slice(prefix.length));
  return map;
}
