/**
 * Runs every hub benchmark in turn and writes the results, with the machine they ran on and the
 * command that reproduces each, to bench/RESULTS.md (`npm run bench`).
 *
 *   npm run bench                      full run (about 5 minutes), writes bench/RESULTS.md
 *   npm run bench -- --quick           smoke run (small sizes, short windows), writes
 *                                      bench/.runs/RESULTS.quick.md unless --out is given
 *   npm run bench -- --only rpc,shadow run some: storm-1000, storm-10000, rpc, shadow, fairness,
 *                                      ota-1, ota-100, rollout-1000
 *   npm run bench -- --no-profile      do not re-run a benchmark that missed its goal under
 *                                      `node --cpu-prof` to list the hub's hot spots
 *
 * Benchmarks run one after another (never two at once on a shared machine); each starts its own
 * hub and load processes, stops them, and removes its temp dirs, also when it fails.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { REPO_ROOT } from './bench-child';
import { currentLoad, machineInfo } from './machine-info';
import { renderResults, type BenchReport } from './bench-report';
import { runConnectionStorm, stormReport } from './connection-storm';
import { runRpcThroughput, rpcReport } from './rpc-throughput';
import { runShadowThroughput, SHADOW_DEVICES, shadowReport } from './shadow-throughput';
import { fairnessReport, runFairness } from './fairness';
import { otaSingleReport, runOtaSingle } from './ota-single';
import { otaConcurrentReport, runOtaConcurrent } from './ota-concurrent';
import { rolloutReport, runRolloutWaves } from './rollout-waves';
import { isMain, runMain } from './bench-main';

interface Bench {
  name: string;
  /** Runs it; `cpuProfDir` set means a profiling re-run. */
  run(cpuProfDir?: string): Promise<BenchReport>;
}

export function benches(quick: boolean, log: (l: string) => void): Bench[] {
  return [
    {
      name: 'storm-1000',
      run: async (cpuProfDir) =>
        stormReport(
          await runConnectionStorm({
            devices: quick ? 200 : 1000,
            ramp: 0,
            log,
            ...(cpuProfDir !== undefined && { cpuProfDir }),
          }),
        ),
    },
    {
      name: 'storm-10000',
      run: async (cpuProfDir) =>
        stormReport(
          await runConnectionStorm({
            devices: quick ? 500 : 10_000,
            ramp: 0,
            log,
            ...(cpuProfDir !== undefined && { cpuProfDir }),
          }),
          true,
        ),
    },
    {
      name: 'rpc',
      run: async (cpuProfDir) =>
        rpcReport(
          await runRpcThroughput({
            seconds: quick ? 2 : 10,
            rounds: quick ? 1 : 2,
            log,
            ...(cpuProfDir !== undefined && { cpuProfDir }),
          }),
        ),
    },
    {
      name: 'shadow',
      run: async (cpuProfDir) =>
        shadowReport(
          await runShadowThroughput({
            devices: quick ? 64 : SHADOW_DEVICES,
            seconds: quick ? 2 : 10,
            log,
            ...(cpuProfDir !== undefined && { cpuProfDir }),
          }),
        ),
    },
    {
      name: 'fairness',
      // No profiled re-run: the question is who gets the CPU, not where the hub spends it.
      run: async () => fairnessReport(await runFairness({ seconds: quick ? 2 : 10, log })),
    },
    {
      name: 'ota-1',
      run: async (cpuProfDir) =>
        otaSingleReport(
          await runOtaSingle({
            sizeKb: quick ? 256 : 1024,
            rounds: quick ? 1 : 3,
            log,
            ...(cpuProfDir !== undefined && { cpuProfDir }),
          }),
        ),
    },
    {
      name: 'ota-100',
      run: async (cpuProfDir) =>
        otaConcurrentReport(
          await runOtaConcurrent({
            jobs: quick ? 10 : 100,
            sizeKb: quick ? 256 : 1024,
            log,
            ...(cpuProfDir !== undefined && { cpuProfDir }),
          }),
        ),
    },
    {
      name: 'rollout-1000',
      run: async (cpuProfDir) =>
        rolloutReport(
          await runRolloutWaves({
            devices: quick ? 50 : 1000,
            sizeKb: quick ? 64 : 1024,
            healthS: 1,
            log,
            ...(cpuProfDir !== undefined && { cpuProfDir }),
          }),
        ),
    },
  ];
}

export interface RunAllOptions {
  quick: boolean;
  only: string[] | null;
  profileMisses: boolean;
  command: string;
  log: (line: string) => void;
}

/** Hand-written notes (method, performance changes) appended to every RESULTS.md. */
const NOTES_FILE = join(REPO_ROOT, 'bench', 'results-notes.md');

export async function runAll(o: RunAllOptions): Promise<{ text: string; failed: number }> {
  const machine = machineInfo();
  const t0 = performance.now();
  const reports: BenchReport[] = [];
  const failures: [string, string][] = [];
  const profileRoot = join(
    REPO_ROOT,
    'bench',
    '.runs',
    `profiles-${machine.date.replace(/[:.]/g, '-')}`,
  );
  const all = benches(o.quick, o.log);
  const unknown = (o.only ?? []).filter((n) => !all.some((b) => b.name === n));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}`);
  for (const b of all) {
    if (o.only && !o.only.includes(b.name)) continue;
    o.log(`== ${b.name}`);
    try {
      let report = await b.run();
      const missed = report.goals.some((g) => g.pass === false);
      if (missed && o.profileMisses) {
        // The numbers stay those of the plain run; the profiled run only says where time went.
        o.log(`== ${b.name} missed its goal: re-running under --cpu-prof for hot spots`);
        const dir = join(profileRoot, b.name);
        mkdirSync(dir, { recursive: true });
        try {
          const profiled = await b.run(dir);
          if (profiled.profile) {
            report = {
              ...report,
              profile: profiled.profile,
              notes: [
                ...report.notes,
                `The goal was missed, so the benchmark ran once more with the hub under \`node --cpu-prof\` (numbers above are from the plain run; the profile lives in \`${relative(REPO_ROOT, dir)}\`, not committed).`,
              ],
            };
          }
        } catch (e) {
          o.log(`profiling run failed: ${String(e)}`);
        }
      }
      reports.push(report);
      for (const g of report.goals) o.log(`   ${g.goal}: ${g.measured} (${g.pass ?? 'n/a'})`);
    } catch (e) {
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      o.log(`== ${b.name} FAILED: ${msg}`);
      failures.push([b.name, msg]);
    }
  }
  const text = renderResults(
    {
      machine,
      quick: o.quick,
      command: o.command,
      durationS: (performance.now() - t0) / 1000,
      loadAtEnd: currentLoad(),
      failures,
      ...(existsSync(NOTES_FILE) && { appendix: readFileSync(NOTES_FILE, 'utf8') }),
    },
    reports,
  );
  return { text, failed: failures.length };
}

/**
 * Sections of RESULTS.md that other benchmarks write and this one must carry over: the
 * "Flashing" section belongs to bench/flash-throughput.ts, which replaces only that section.
 */
const FOREIGN_SECTIONS = ['Flashing'];

/** The foreign sections of an existing RESULTS.md, each from its heading to the next `## `. */
export function keptSections(existing: string): string {
  const parts: string[] = [];
  for (const title of FOREIGN_SECTIONS) {
    const start = existing.search(new RegExp(`^## ${title}\\s*$`, 'm'));
    if (start === -1) continue;
    const rest = existing.slice(start + 1);
    const endRel = rest.search(/^## /m);
    parts.push(
      existing.slice(start, endRel === -1 ? existing.length : start + 1 + endRel).trimEnd(),
    );
  }
  return parts.join('\n\n');
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      'no-profile': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick ?? false;
  const out =
    values.out ?? join(REPO_ROOT, 'bench', quick ? '.runs/RESULTS.quick.md' : 'RESULTS.md');
  const args = process.argv.slice(2).join(' ');
  runMain(
    async () => {
      const { text, failed } = await runAll({
        quick,
        only: values.only ? values.only.split(',').map((s) => s.trim()) : null,
        profileMisses: !(values['no-profile'] ?? false) && !quick,
        command: `npm run bench${args ? ` -- ${args}` : ''}`,
        log: (l) => console.log(l),
      });
      mkdirSync(join(out, '..'), { recursive: true });
      const kept = existsSync(out) ? keptSections(readFileSync(out, 'utf8')) : '';
      // Formatted as the repository formats markdown, so `npm run format:check` stays green.
      const options = (await prettier.resolveConfig(out)) ?? {};
      const full = kept ? `${text.trimEnd()}\n\n${kept}` : text;
      writeFileSync(out, await prettier.format(full, { ...options, parser: 'markdown' }));
      console.log(`wrote ${relative(process.cwd(), out) || out}`);
      // A missed goal is a result; a benchmark that could not run is an error.
      if (failed > 0) process.exitCode = 1;
    },
    quick ? 600_000 : 1_800_000,
  );
}
