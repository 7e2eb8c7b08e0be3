/**
 * DESIGN.md "Layout": a folder imports from folders below it, never upward. Checked on the source
 * text so a stray import fails here, not in a later refactor: api/ is imported only by the
 * composition roots (hub.ts, the CLI, the Electron entry) and by tls/, the HTTPS face of the same
 * HTTP layer; ota/ does not import flasher/; only the Electron entry, shell/ and the preload
 * import electron; src/shared stays free of Node and of main/renderer code (the renderer bundles it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(process.cwd(), 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx)$/.test(e.name) ? [p] : [];
  });
}

/** `from '...'` and `import('...')` specifiers of a file. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)'([^']+)'/g)) out.push(m[1] ?? '');
  return out;
}

/** The src-relative folder an import resolves into, e.g. `main/api`. */
function targetFolder(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const abs = join(file, '..', spec);
  return relative(SRC, abs).split('/').slice(0, -1).join('/');
}

const files = sourceFiles(SRC).map((f) => ({ f, rel: relative(SRC, f) }));

function violations(pred: (rel: string, spec: string, folder: string | null) => boolean): string[] {
  return files.flatMap(({ f, rel }) =>
    importsOf(f)
      .filter((spec) => pred(rel, spec, targetFolder(f, spec)))
      .map((spec) => `${rel} imports ${spec}`),
  );
}

describe('module layers (DESIGN.md)', () => {
  it('finds the source', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it('imports api/ only from the composition roots and tls/', () => {
    const allowed = (rel: string): boolean =>
      rel.startsWith('main/api/') ||
      rel.startsWith('main/cli') ||
      rel.startsWith('main/tls/') ||
      rel === 'main/hub.ts' ||
      rel === 'main/index.ts';
    expect(violations((rel, _spec, folder) => folder === 'main/api' && !allowed(rel))).toEqual([]);
  });

  it('keeps ota/ independent of flasher/', () => {
    expect(
      violations(
        (rel, _s, folder) => rel.startsWith('main/ota/') && !!folder?.startsWith('main/flasher'),
      ),
    ).toEqual([]);
  });

  it('imports electron only from the Electron entry, shell/ and the preload', () => {
    const allowed = (rel: string): boolean =>
      rel === 'main/index.ts' || rel.startsWith('main/shell/') || rel.startsWith('preload/');
    expect(
      violations(
        (rel, spec) => (spec === 'electron' || spec.startsWith('electron/')) && !allowed(rel),
      ),
    ).toEqual([]);
  });

  it('keeps src/shared free of Node, main and renderer imports', () => {
    expect(
      violations(
        (rel, spec, folder) =>
          rel.startsWith('shared/') &&
          (spec.startsWith('node:') ||
            !!folder?.startsWith('main') ||
            !!folder?.startsWith('renderer')),
      ),
    ).toEqual([]);
  });
});
