/**
 * Which failures of a write are the disk's, and the catalog error each becomes (issue 7 items 5
 * and 13). A full disk is `storage_full` (507): nothing of the write was stored, reads go on, and
 * a retry may succeed once space is free. An I/O error is `storage_failed` (507 too): the disk
 * refused a write or a flush, and after a failed flush the kernel may have dropped the dirty pages
 * it could not write, so a later flush that succeeds proves nothing about them
 * (https://wiki.postgresql.org/wiki/Fsync_Errors). Everything else (constraint violations, bugs)
 * is not a storage failure and passes through unchanged.
 */
import { HubError } from '../../shared/errors';

/** SQLite result codes (https://sqlite.org/rescode.html) and errno names of a full disk. */
const FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

/** The `code` of an error (SQLite's or the system's), if it has a string one. */
export function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The catalog error for a storage failure, or null when `err` is something else. */
export function storageError(err: unknown): HubError | null {
  if (err instanceof HubError) {
    return err.kind === 'storage_full' || err.kind === 'storage_failed' ? err : null;
  }
  const code = codeOf(err);
  if (code === undefined) return null;
  const detail = err instanceof Error ? err.message : code;
  if (FULL_CODES.has(code)) {
    return new HubError('storage_full', `the disk is full: nothing was stored (${detail})`, err);
  }
  // SQLITE_IOERR and its extended codes (SQLITE_IOERR_WRITE, _FSYNC, ...); EIO from a flush.
  if (code === 'EIO' || code.startsWith('SQLITE_IOERR')) {
    return new HubError('storage_failed', `the disk failed a write (${detail})`, err);
  }
  return null;
}

/**
 * Whether the failure means the disk may have lost what it had already accepted: a failed flush
 * (our fdatasync, or SQLite's own fsync under `synchronous = FULL`). After that nothing may be
 * acknowledged again until a restart has read back what is really on disk.
 */
export function isFlushFailure(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'SQLITE_IOERR_FSYNC' || code === 'SQLITE_IOERR_DIR_FSYNC';
}
