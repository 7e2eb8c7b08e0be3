/**
 * What benchmark children run as `bin/fleetbench.js`: the build a user runs (out/), made from the
 * working tree by `npx electron-vite build` once per benchmark process, so a stale build never
 * stands in for the code under test. `FLEETBENCH_BENCH_SOURCE=1` runs the sources through tsx
 * instead: tsx compiles with esbuild's keepNames, so every closure the hub makes per call also
 * pays a `__name` call (2-3% of the hub's time in an OTA profile), and each process holds its
 * transpiled sources (bench/RESULTS.md, "What the 167 MiB was").
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const FROM_SOURCE = process.env['FLEETBENCH_BENCH_SOURCE'] === '1';

/** How the hub ran, for every report's machine line. */
export const HUB_BUILD = FROM_SOURCE
  ? 'working-tree sources through tsx (`FLEETBENCH_BENCH_SOURCE=1`)'
  : 'the built CLI (`out/`, built from the working tree when the run started; the OTA hub of ota-concurrent and rollout-waves, which need options `serve` has no flag for, runs from the sources: bench/ota-hub.ts)';

/** The environment `bin/fleetbench.js` children get: it picks sources or build by it. */
export function cliEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (FROM_SOURCE) env['FLEETBENCH_FROM_SOURCE'] = '1';
  else delete env['FLEETBENCH_FROM_SOURCE'];
  return env;
}

let built = false;

/** Builds out/ from the working tree, once per process (about 2 s); nothing with sources. */
export function ensureBuilt(): void {
  if (FROM_SOURCE || built) return;
  const r = spawnSync('npx', ['electron-vite', 'build'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    throw new Error(
      `npx electron-vite build failed (exit ${r.status}); FLEETBENCH_BENCH_SOURCE=1 runs the sources:\n${(r.stderr || r.stdout).slice(-2000)}`,
    );
  }
  built = true;
}
