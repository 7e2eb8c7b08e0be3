/**
 * Where a child-process entry lives and how to start it, for every process the hub forks (the
 * flashing worker, the SQL processes): the built `<name>.js` next to the bundle that imported us
 * (electron.vite.config.ts lists each entry), one level up when we sit in a shared chunk, or, in a
 * source checkout (tests, `tsx`), the TypeScript entry.
 *
 * A TypeScript entry loaded through tsx spends ~0.7 s of CPU compiling its imports in every
 * process; so it is bundled once per process with esbuild (a dev dependency, ~10 ms), the same
 * sources a build would bundle, and every child loads that in ~0.3 s. The bundle lives under
 * node_modules/.cache so its package imports resolve, named by its content hash (concurrent
 * processes write the same bytes; rename makes the write atomic). No esbuild: tsx's loader.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The entry `name` as found from `here` (the importing module's folder): `<name>.js` there or one
 * level up, else the TypeScript source at `tsSource`.
 */
export function findWorkerEntry(here: string, name: string, tsSource: string): string {
  const candidates = [join(here, `${name}.js`), join(here, '..', `${name}.js`), tsSource];
  return candidates.find((c) => existsSync(c)) ?? tsSource;
}

const bundles = new Map<string, string | null>();

function bundled(tsFile: string, name: string): string | null {
  const known = bundles.get(tsFile);
  if (known !== undefined) return known;
  let out: string | null = null;
  try {
    const require = createRequire(import.meta.url);
    const esbuild = require('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({
      entryPoints: [tsFile],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]?.contents;
    if (code) {
      const dir = join(
        dirname(require.resolve('esbuild/package.json')),
        '..',
        '.cache',
        'fleetbench',
      );
      const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
      out = join(dir, `${name}-${hash}.mjs`);
      if (!existsSync(out)) {
        mkdirSync(dir, { recursive: true });
        const tmp = `${out}.${process.pid}.tmp`;
        writeFileSync(tmp, code);
        renameSync(tmp, out);
      }
    }
  } catch {
    out = null;
  }
  bundles.set(tsFile, out);
  return out;
}

/** The file to fork for `entry` and the node flags it needs. */
export function workerLaunch(entry: string, name: string): { file: string; execArgv: string[] } {
  if (!entry.endsWith('.ts')) return { file: entry, execArgv: [] };
  const js = bundled(entry, name);
  if (js !== null) return { file: js, execArgv: [] };
  const loader = createRequire(import.meta.url).resolve('tsx');
  return { file: entry, execArgv: ['--import', pathToFileURL(loader).href] };
}
