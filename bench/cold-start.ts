/**
 * Cold start (issue 11): the wall time of `fleetbench --version`, the time from spawning
 * `fleetbench serve` to its "REST API" line (first start on an empty data dir, and a restart on
 * the data dir the first start made), and the hub's resident memory once it sits idle.
 *
 *   node --import tsx bench/cold-start.ts [--runs 7] [--idle-ms 3000] [--bin other/bin/fleetbench.js]
 *
 * Runs the command a user runs (bin/fleetbench.js: the built CLI after `npm run build`, the
 * sources through tsx otherwise; FLEETBENCH_FROM_SOURCE=1 forces the sources). `node -e 0` is
 * timed in the same loop, as the floor no Node CLI goes under on this machine. Prints min / median
 * / max of each figure. --bin times another checkout's CLI (a before/after comparison).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchChild, REPO_ROOT } from './bench-child';
import { intFlag, isMain, runMain } from './bench-main';
import { currentLoad, machineInfo } from './machine-info';
import { readMemory } from './proc-stats';
import { makeTempDir } from './temp-dir';

const DEFAULT_BIN = join(REPO_ROOT, 'bin/fleetbench.js');
/** A start slower than this is a failure, not a figure. */
const SERVE_TIMEOUT_MS = 120_000;

export interface ColdStartResult {
  versionMs: number[];
  nodeFloorMs: number[];
  firstStartMs: number[];
  restartMs: number[];
  /** VmRSS of the restarted hub after idling, MiB. */
  idleRssMiB: number[];
}

/** Wall time of a command that exits by itself, in ms. */
function timeExit(args: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(performance.now() - t0)
        : reject(new Error(`${args.join(' ')} exited ${code}`)),
    );
  });
}

/** Starts `fleetbench serve`; resolves with the ms until its "REST API" line and the child. */
async function startServe(
  bin: string,
  dataDir: string,
): Promise<{ ms: number; child: BenchChild }> {
  const t0 = performance.now();
  const child = BenchChild.node(
    bin,
    ['serve', '--host', '127.0.0.1', '--port', '0', '--tls-port', '0', '--data-dir', dataDir],
    { label: 'serve', fromSource: false },
  );
  try {
    await child.waitForLine(/REST API:/, SERVE_TIMEOUT_MS);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { ms: performance.now() - t0, child };
}

export async function runColdStart(opts: {
  runs: number;
  idleMs: number;
  bin?: string;
  log: (l: string) => void;
}): Promise<ColdStartResult> {
  const r: ColdStartResult = {
    versionMs: [],
    nodeFloorMs: [],
    firstStartMs: [],
    restartMs: [],
    idleRssMiB: [],
  };
  // Absolute: the serve child runs from the repository root (bench-child.ts); --bin is
  // relative to our working directory.
  const bin = resolve(opts.bin ?? DEFAULT_BIN);
  await timeExit([bin, '--version']); // warm-up: page cache, compile cache
  for (let i = 0; i < opts.runs; i++) {
    r.versionMs.push(await timeExit([bin, '--version']));
    r.nodeFloorMs.push(await timeExit(['-e', '0']));
  }
  for (let i = 0; i < Math.max(1, Math.ceil(opts.runs / 2)); i++) {
    const dir = makeTempDir('fb-bench-cold-');
    try {
      const data = dir.file('data');
      const first = await startServe(bin, data);
      r.firstStartMs.push(first.ms);
      await first.child.stop();
      const again = await startServe(bin, data);
      r.restartMs.push(again.ms);
      await new Promise((res) => setTimeout(res, opts.idleMs));
      r.idleRssMiB.push(readMemory(again.child.pid).rssKb / 1024);
      await again.child.stop();
    } finally {
      dir.remove();
    }
    opts.log(`serve run ${i + 1} done`);
  }
  return r;
}

function stats(xs: number[], digits = 0): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  const f = (x: number): string => x.toFixed(digits);
  return `${f(s[0] ?? NaN)} / ${f(at(0.5))} / ${f(s[s.length - 1] ?? NaN)}`;
}

export function coldStartTable(r: ColdStartResult): string {
  return [
    '| Figure (min / median / max) | value |',
    '|---|---|',
    `| \`fleetbench --version\` wall, ms | ${stats(r.versionMs)} |`,
    `| \`node -e 0\` wall (floor), ms | ${stats(r.nodeFloorMs)} |`,
    `| \`serve\` first start (empty data dir) to "REST API" line, ms | ${stats(r.firstStartMs)} |`,
    `| \`serve\` restart to "REST API" line, ms | ${stats(r.restartMs)} |`,
    `| hub VmRSS idle after restart, MiB | ${stats(r.idleRssMiB, 1)} |`,
  ].join('\n');
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values } = parseArgs({
      options: { runs: { type: 'string' }, 'idle-ms': { type: 'string' }, bin: { type: 'string' } },
    });
    const m = machineInfo();
    const r = await runColdStart({
      runs: intFlag(values.runs, 'runs', 7, 1),
      idleMs: intFlag(values['idle-ms'], 'idle-ms', 3000),
      log: (l) => console.error(l),
      ...(values.bin !== undefined && { bin: values.bin }),
    });
    console.log(
      `${m.cpuModel}, ${m.cores} cores, Node ${m.node}, load ${m.loadAtStart} -> ${currentLoad()}`,
    );
    console.log(coldStartTable(r));
  }, 300_000);
}
