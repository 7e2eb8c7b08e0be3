/**
 * Where the SQL process entry lives (the same scheme as flasher/jobs/worker-host.ts): the built
 * `sql-worker.js` next to the bundle (electron.vite.config.ts lists it), one level up from a
 * shared chunk, or, in a source checkout (tests, tsx), the TypeScript entry bundled once per
 * process with esbuild into node_modules/.cache so its package imports resolve.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function defaultSqlWorkerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, 'sql-worker.js'),
    join(here, '..', 'sql-worker.js'),
    join(here, 'sql-worker.ts'),
  ];
  return candidates.find((c) => existsSync(c)) ?? join(here, 'sql-worker.ts');
}

let bundled: string | null | undefined;

function bundle(tsFile: string): string | null {
  if (bundled !== undefined) return bundled;
  bundled = null;
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
      const out = join(dir, `sql-worker-${hash}.mjs`);
      if (!existsSync(out)) {
        mkdirSync(dir, { recursive: true });
        const tmp = `${out}.${process.pid}.tmp`;
        writeFileSync(tmp, code);
        renameSync(tmp, out);
      }
      bundled = out;
    }
  } catch {
    bundled = null;
  }
  return bundled;
}

/** The file to fork and the node flags it needs (tsx's loader for a .ts entry without esbuild). */
export function sqlWorkerLaunch(entry: string): { file: string; execArgv: string[] } {
  if (!entry.endsWith('.ts')) return { file: entry, execArgv: [] };
  const js = bundle(entry);
  if (js !== null) return { file: js, execArgv: [] };
  const loader = createRequire(import.meta.url).resolve('tsx');
  return { file: entry, execArgv: ['--import', pathToFileURL(loader).href] };
}
