/**
 * The Node version we document is the one every installed package accepts: package.json's
 * `engines`, the README's requirement line and each package's own `engines.node` in
 * package-lock.json agree, so `npm install` on the documented Node prints no EBADENGINE warning
 * (issue 7 item 29: cookie@2 and content-disposition@3 wanted Node >= 22; package.json
 * `overrides` pin versions that accept Node 20).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

interface Semver {
  satisfies(version: string, range: string): boolean;
  validRange(range: string): string | null;
  minVersion(range: string): { version: string } | null;
}
// semver is npm's own range logic (installed with fastify and the build tools).
const semver = createRequire(join(ROOT, 'package.json'))('semver') as Semver;

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as unknown;
}

function enginesNode(pkg: unknown): string | null {
  if (typeof pkg !== 'object' || pkg === null || !('engines' in pkg)) return null;
  const engines = pkg.engines;
  // Old packages may carry an array here; npm ignores that form.
  if (typeof engines !== 'object' || engines === null || !('node' in engines)) return null;
  return typeof engines.node === 'string' ? engines.node : null;
}

const declared = enginesNode(readJson('package.json'));
const documentedMin = declared === null ? null : (semver.minVersion(declared)?.version ?? null);

describe('documented Node version', () => {
  it('package.json engines and the README requirement name the same minimum', () => {
    expect(documentedMin).not.toBeNull();
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /Requirements: Node ≥ (\d+\.\d+(?:\.\d+)?)/.exec(readme);
    expect(m, 'README states "Requirements: Node ≥ x.y"').not.toBeNull();
    expect(semver.minVersion(`>=${m?.[1] ?? ''}`)?.version).toBe(documentedMin);
  });

  it('every locked package accepts the documented minimum Node', () => {
    const lock = readJson('package-lock.json') as { packages: Record<string, unknown> };
    const refused: string[] = [];
    for (const [path, pkg] of Object.entries(lock.packages)) {
      const range = enginesNode(pkg);
      if (path === '' || range === null || semver.validRange(range) === null) continue;
      if (!semver.satisfies(documentedMin ?? '0.0.0', range)) refused.push(`${path} (${range})`);
    }
    expect(refused).toEqual([]);
  });
});
