import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  electronNativeBinding,
  electronNativePath,
  projectRoot,
} from '../../../src/main/store/native-binding';

let root: string;
const versions = (electron?: string): NodeJS.ProcessVersions =>
  ({
    ...process.versions,
    ...(electron !== undefined ? { electron } : {}),
  }) as NodeJS.ProcessVersions;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'fb-native-'));
  const file = electronNativePath(root, '40.10.2');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('electronNativeBinding', () => {
  it('is undefined in plain Node', () => {
    expect(electronNativeBinding(versions(), root)).toBeUndefined();
    expect(electronNativeBinding()).toBeUndefined();
  });

  it('returns the Electron-ABI build for the running Electron when it exists', () => {
    expect(electronNativeBinding(versions('40.10.2'), root)).toBe(
      join(root, 'build', 'native', 'electron-40.10.2', 'better_sqlite3.node'),
    );
  });

  it('falls back (undefined) when this Electron version has no build', () => {
    expect(electronNativeBinding(versions('41.0.0'), root)).toBeUndefined();
  });

  it('never turns an odd version string into a path', () => {
    for (const v of ['../../etc', '40.10.2/../../x', '', 'abc']) {
      expect(electronNativeBinding(versions(v), root)).toBeUndefined();
    }
  });

  it('finds the project root from a nested directory', () => {
    const nested = join(root, 'a', 'b');
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(root, 'package.json'), '{}');
    expect(projectRoot(nested)).toBe(root);
  });
});
