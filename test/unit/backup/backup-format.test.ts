/**
 * The pure rules of the backup format (src/main/backup/backup-format.ts): which data-dir files a
 * backup takes, which archive paths a restore may create, which files are secret, the manifest
 * checks, and where the CLI finds a running hub from its lock.
 */
import { describe, expect, it } from 'vitest';
import { HubError } from '../../../src/shared/errors';
import {
  checkManifest,
  isExcluded,
  isRestorablePath,
  isSecret,
} from '../../../src/main/backup/backup-format';
import { lockUrl } from '../../../src/main/backup/hub-lock';

const SHA = 'a'.repeat(64);
const manifest = (files: { path: string; size: number }[], extra: object = {}): unknown => ({
  format: 'fleetbench-backup',
  version: 1,
  created: 1,
  app_version: '1.0.0',
  files: files.map((f) => ({ ...f, sha256: SHA })),
  counts: { devices: 0, customers: 0, firmware: 0, apps: 0 },
  ...extra,
});
const DBS = [
  { path: 'fleetbench.db', size: 10 },
  { path: 'account.db', size: 10 },
];

function reasonOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe(4227);
    return ((err as HubError).details as { reason?: unknown }).reason;
  }
  throw new Error('not refused');
}

describe('backup format', () => {
  it('leaves out live database files, WAL/SHM, the lock and scratch dirs; keeps the rest', () => {
    for (const p of [
      'fleetbench.db',
      'account.db',
      'log.db',
      'fleetbench.db-wal',
      'account.db-shm',
      'hub.lock',
      'sql-tmp/snapshot-1.sqlite',
      'backup-tmp/x/backup.zip',
      'firmware/.incoming-abc',
      'apps/.deleting-x/index.html',
    ]) {
      expect(isExcluded(p), p).toBe(true);
    }
    for (const p of ['master.key', 'settings.json', 'tls/ca.key', 'firmware/' + SHA, 'hub-id']) {
      expect(isExcluded(p), p).toBe(false);
    }
  });

  it('restores only safe relative paths', () => {
    for (const p of ['fleetbench.db', 'tls/ca.pem', 'apps/x/sub/a.js', 'firmware/' + SHA]) {
      expect(isRestorablePath(p), p).toBe(true);
    }
    for (const p of [
      '',
      '../x',
      'a/../../x',
      '/etc/passwd',
      'C:/x',
      'a\\b',
      'a//b',
      './a',
      'a/',
      'a\0b',
      'hub.lock',
      'fleetbench.db-wal',
      'fleetbench-backup.json',
      'x'.repeat(1025),
    ]) {
      expect(isRestorablePath(p), JSON.stringify(p)).toBe(false);
    }
  });

  it('marks the keys and databases secret', () => {
    expect(isSecret('master.key')).toBe(true);
    expect(isSecret('tls/ca.key')).toBe(true);
    expect(isSecret('fleetbench.db')).toBe(true);
    expect(isSecret('tls/ca.pem')).toBe(false);
    expect(isSecret('settings.json')).toBe(false);
  });

  it('accepts a good manifest and refuses foreign, newer, unsafe, incomplete or too big ones', () => {
    expect(checkManifest(manifest(DBS), 100).files).toHaveLength(2);
    expect(reasonOf(() => checkManifest({ name: 'fw' }, 100))).toBe('foreign');
    expect(reasonOf(() => checkManifest(null, 100))).toBe('foreign');
    expect(reasonOf(() => checkManifest(manifest(DBS, { version: 2 }), 100))).toBe('version');
    expect(reasonOf(() => checkManifest(manifest(DBS, { files: 'x' }), 100))).toBe('foreign');
    expect(reasonOf(() => checkManifest(manifest([...DBS, { path: '../x', size: 1 }]), 100))).toBe(
      'unsafe_path',
    );
    expect(reasonOf(() => checkManifest(manifest([...DBS, DBS[0] as never]), 100))).toBe('foreign');
    expect(reasonOf(() => checkManifest(manifest([DBS[0] as never]), 100))).toBe('missing_file');
  });

  it('maxUnpackedBytes at the edge: the manifest total may equal it, not pass it', () => {
    expect(checkManifest(manifest(DBS), 20).files).toHaveLength(2);
    expect(reasonOf(() => checkManifest(manifest(DBS), 19))).toBe('too_large');
  });

  it('reaches a running hub of a lock over loopback when it listens on every interface', () => {
    expect(lockUrl({ pid: 1, port: 8009, started: 0, host: '0.0.0.0' })).toBe(
      'http://127.0.0.1:8009',
    );
    expect(lockUrl({ pid: 1, port: 8009, started: 0 })).toBe('http://127.0.0.1:8009');
    expect(lockUrl({ pid: 1, port: 1, started: 0, host: '::' })).toBe('http://[::1]:1');
    expect(lockUrl({ pid: 1, port: 1, started: 0, host: '10.0.0.5' })).toBe('http://10.0.0.5:1');
  });
});
