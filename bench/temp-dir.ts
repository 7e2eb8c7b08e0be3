/**
 * A temp directory that is removed when the benchmark is done with it, or when the process ends
 * first (exit-guard.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardOnExit } from './exit-guard';

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  remove(): void;
}

export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const rm = (): void => rmSync(path, { recursive: true, force: true });
  const unguard = guardOnExit(rm);
  return {
    path,
    file: (name) => join(path, name),
    remove() {
      rm();
      unguard();
    },
  };
}
