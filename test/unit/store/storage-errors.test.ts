/**
 * Which write failures are the disk's (src/main/store/storage-errors.ts, issue 7 items 5 and 13).
 */
import { describe, expect, it } from 'vitest';
import { isFlushFailure, storageError } from '../../../src/main/store/storage-errors';
import { HubError } from '../../../src/shared/errors';

const coded = (code: string): Error => Object.assign(new Error(`failed: ${code}`), { code });

describe('storageError', () => {
  it.each(['SQLITE_FULL', 'ENOSPC', 'EDQUOT'])('%s is storage_full (507, code 507)', (code) => {
    const e = storageError(coded(code));
    expect(e?.kind).toBe('storage_full');
    expect(e?.status).toBe(507);
    expect(e?.code).toBe(507);
    expect(e?.message).toContain(code);
  });

  it.each(['SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'EIO'])(
    '%s is storage_failed (507, code 5071)',
    (code) => {
      const e = storageError(coded(code));
      expect(e?.kind).toBe('storage_failed');
      expect(e?.code).toBe(5071);
    },
  );

  it.each([
    ['a constraint violation', coded('SQLITE_CONSTRAINT_UNIQUE')],
    ['a busy database', coded('SQLITE_BUSY')],
    ['a plain error', new Error('boom')],
    ['a string', 'boom'],
    ['another catalog error', new HubError('device_not_found')],
  ])('%s is not a storage failure', (_what, err) => {
    expect(storageError(err)).toBeNull();
  });

  it('keeps a storage HubError as it is', () => {
    const e = new HubError('storage_full');
    expect(storageError(e)).toBe(e);
  });

  it('only failed fsyncs count as flush failures', () => {
    expect(isFlushFailure(coded('SQLITE_IOERR_FSYNC'))).toBe(true);
    expect(isFlushFailure(coded('SQLITE_IOERR_DIR_FSYNC'))).toBe(true);
    expect(isFlushFailure(coded('SQLITE_IOERR_WRITE'))).toBe(false);
    expect(isFlushFailure(coded('SQLITE_FULL'))).toBe(false);
  });
});
