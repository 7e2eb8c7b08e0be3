/**
 * The data dir and the master key file are private to the user (src/main/store/data-dir.ts),
 * whoever created them and whatever the umask.
 */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MASTER_KEY_FILE,
  ensureDataDir,
  fsyncDir,
  fsyncDirSync,
  fsyncFile,
  readMasterKeyFile,
  writeFileAtomic,
  writeMasterKeyFile,
} from '../../../src/main/store/data-dir';

const mode = (p: string): number => statSync(p).mode & 0o777;
const posix = process.platform !== 'win32';

describe('data dir', () => {
  let root: string;
  let oldUmask: number;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fb-dd-'));
    oldUmask = process.umask(0o002); // a permissive umask must not leak into our files
  });
  afterEach(() => {
    process.umask(oldUmask);
    rmSync(root, { recursive: true, force: true });
  });

  it.runIf(posix)('creates a missing (nested) data dir as 0700', () => {
    const dir = join(root, 'a', 'b', 'data');
    ensureDataDir(dir);
    expect(mode(dir)).toBe(0o700);
  });

  it.runIf(posix)('tightens an existing world-readable data dir to 0700', () => {
    const dir = join(root, 'existing');
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    ensureDataDir(dir);
    expect(mode(dir)).toBe(0o700);
  });

  it.runIf(posix)('writes master.key as 0600, also over an existing readable file', () => {
    ensureDataDir(root);
    writeMasterKeyFile(root, 'first');
    expect(mode(join(root, MASTER_KEY_FILE))).toBe(0o600);
    chmodSync(join(root, MASTER_KEY_FILE), 0o644);
    writeMasterKeyFile(root, 'second');
    expect(mode(join(root, MASTER_KEY_FILE))).toBe(0o600);
    expect(readMasterKeyFile(root)).toBe('second');
  });

  it.runIf(posix)('reading a readable master.key makes it owner-only', () => {
    writeFileSync(join(root, MASTER_KEY_FILE), 'k\n', { mode: 0o644 });
    chmodSync(join(root, MASTER_KEY_FILE), 0o644);
    expect(readMasterKeyFile(root)).toBe('k');
    expect(mode(join(root, MASTER_KEY_FILE))).toBe(0o600);
  });

  it('reads the key trimmed; a missing or blank file is no key', () => {
    expect(readMasterKeyFile(root)).toBeNull();
    writeFileSync(join(root, MASTER_KEY_FILE), '  \n');
    expect(readMasterKeyFile(root)).toBeNull();
    writeFileSync(join(root, MASTER_KEY_FILE), '  abc123 \r\n');
    expect(readMasterKeyFile(root)).toBe('abc123');
  });
});

describe('fsync helpers and writeFileAtomic', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fb-sync-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('fsync a file and a directory; refuse what is not there', async () => {
    const file = join(root, 'f');
    writeFileSync(file, 'x');
    await fsyncFile(file);
    await fsyncDir(root);
    fsyncDirSync(root);
    await expect(fsyncFile(join(root, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.runIf(posix)(
    'writeFileAtomic replaces the file by rename, with its mode, and no temp left',
    () => {
      const file = join(root, 'settings.json');
      writeFileSync(file, 'old');
      const before = statSync(file).ino;
      writeFileAtomic(file, 'new', 0o600);
      expect(readFileSync(file, 'utf8')).toBe('new');
      expect(statSync(file).ino).not.toBe(before);
      expect(mode(file)).toBe(0o600);
      expect(readdirSync(root)).toEqual(['settings.json']);
    },
  );
});
