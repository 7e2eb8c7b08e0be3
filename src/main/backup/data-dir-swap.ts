/**
 * Puts a verified restore in place of a data dir so that a crash at any moment leaves either the
 * old or the new dir, never a half-restored one (issue 12):
 *
 * 1. restore-reader.ts unpacks into `<dir>.restoring-<rand>` (a sibling: same disk, so renames are
 *    atomic) and fsyncs every file.
 * 2. `markReady` renames it to `<dir>.restore-ready-<time>`: from now on the restore is wanted.
 * 3. `applyPendingRestore` renames `<dir>` to `<dir>.before-restore-<time>` (kept: the user
 *    removes it once happy), then `<dir>.restore-ready-<time>` to `<dir>`, fsyncing the parent.
 *
 * A crash before 2 leaves the old dir and a `.restoring-` leftover (removed by the next restore).
 * A crash between 2 and 3, or between 3's two renames, is finished by `applyPendingRestore`, which
 * every hub start runs first (hub.ts) and `fleetbench restore` runs too: the hub never creates an
 * empty data dir where a restore was pending. This is also how a hub that cannot restart itself
 * applies a restore uploaded to it: on its next start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsyncDirSync } from '../store/data-dir';

const READY = '.restore-ready-';
const STAGING = '.restoring-';
const BEFORE = '.before-restore-';

/** A fresh sibling dir name for unpacking a restore into. */
export function stagingDirFor(dataDir: string): string {
  return `${dataDir}${STAGING}${randomBytes(6).toString('hex')}`;
}

function stamp(now: number): string {
  return new Date(now).toISOString().replace(/[:.]/g, '-');
}

/** Siblings of `dataDir` whose name is `<base><prefix>...`, oldest name first. */
function siblings(dataDir: string, prefix: string): string[] {
  const parent = dirname(dataDir);
  const start = basename(dataDir) + prefix;
  try {
    return readdirSync(parent)
      .filter((n) => n.startsWith(start))
      .sort()
      .map((n) => join(parent, n));
  } catch {
    return [];
  }
}

/** Step 2: the unpacked, verified dir becomes the pending restore. Returns its path. */
export function markReady(dataDir: string, staged: string, now = Date.now()): string {
  // An older pending restore (never applied) is replaced by this newer one.
  for (const old of siblings(dataDir, READY)) rmSync(old, { recursive: true, force: true });
  const ready = `${dataDir}${READY}${stamp(now)}`;
  renameSync(staged, ready);
  fsyncDirSync(dirname(dataDir));
  return ready;
}

/**
 * Where `applyPendingRestore` keeps the data dir that the pending restore `ready` replaces:
 * `<dir>.before-restore-<time of ready>`, or with `-2`, `-3`... when that name is taken. The
 * same answer until the swap, so the REST route can say it before the hub restarts.
 */
export function previousDirFor(dataDir: string, ready: string): string {
  const when = basename(ready).slice(basename(dataDir).length + READY.length);
  const base = `${dataDir}${BEFORE}${when}`;
  let previous = base;
  for (let n = 2; existsSync(previous); n++) previous = `${base}-${n}`;
  return previous;
}

/** Whether a restore waits to be applied. */
export function pendingRestore(dataDir: string): string | null {
  return siblings(dataDir, READY).pop() ?? null;
}

/**
 * Step 3 (and crash recovery): applies the newest pending restore, if any. The caller makes sure
 * no hub has the dir open. Returns where the replaced dir was kept, or null.
 */
export function applyPendingRestore(dataDir: string): { previous: string | null } | null {
  const ready = pendingRestore(dataDir);
  if (ready === null) return null;
  let previous: string | null = null;
  if (existsSync(dataDir)) {
    previous = previousDirFor(dataDir, ready);
    renameSync(dataDir, previous);
  }
  renameSync(ready, dataDir);
  fsyncDirSync(dirname(dataDir));
  // Unpacking leftovers of restores that never got as far as step 2.
  for (const s of siblings(dataDir, STAGING)) rmSync(s, { recursive: true, force: true });
  return { previous };
}
