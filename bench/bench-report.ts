/**
 * What a benchmark hands back for RESULTS.md: its numbers, its goals with pass/fail, and the
 * exact command that reproduces it. Rendering is pure (values in, markdown out).
 */
import type { MachineInfo } from './machine-info';

export interface BenchGoal {
  /** e.g. "10,000 devices under 1 GB hub RSS" */
  goal: string;
  measured: string;
  /** null: not measured at the goal's scale in this run (e.g. a --quick run). */
  pass: boolean | null;
}

export interface BenchReport {
  title: string;
  /** Label and value, in display order. */
  metrics: [string, string][];
  goals: BenchGoal[];
  /** How to reproduce this section, run from the repository root. */
  command: string;
  /** Method and caveats, one sentence each. */
  notes: string[];
  /** Hot spots of the hub's CPU profile (markdown), when the run was profiled. */
  profile?: string;
}

export interface RunMeta {
  machine: MachineInfo;
  quick: boolean;
  /** The command that produced the whole file. */
  command: string;
  durationS: number;
  loadAtEnd: number;
  /** Benchmarks that failed to run, with their error. */
  failures: [string, string][];
  /** Extra paragraphs (profiles, fixes) appended verbatim. */
  appendix?: string;
}

export function verdict(pass: boolean | null): string {
  return pass === null ? 'not measured at scale' : pass ? 'PASS' : 'FAIL';
}

/** The middle value; the mean of the two middle ones for an even count. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtMiB(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MiB`;
}

export function renderResults(meta: RunMeta, reports: readonly BenchReport[]): string {
  const m = meta.machine;
  const busy = Math.max(m.loadAtStart, meta.loadAtEnd) > m.cores * 0.5;
  const out: string[] = [
    '# Hub benchmark results',
    '',
    `Written by \`${meta.command}\` (bench/run-all.ts); every section says how to reproduce it alone.`,
    meta.quick
      ? '**This is a `--quick` smoke run: small sizes and short durations; goals are not judged at scale.**'
      : '',
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${m.cpuModel} |`,
    `| Cores | ${m.cores} |`,
    `| RAM | ${m.ramGiB} GiB |`,
    `| Node | ${m.node} |`,
    `| Kernel | ${m.kernel} |`,
    `| Date | ${m.date} |`,
    `| Commit | ${m.commit}${m.dirty ? ' (plus uncommitted changes)' : ''} |`,
    `| Hub | ${m.hubBuild}, child process, loopback only |`,
    `| 1-min load average | ${m.loadAtStart.toFixed(2)} at start, ${meta.loadAtEnd.toFixed(2)} at end |`,
    `| Run time | ${meta.durationS.toFixed(0)} s |`,
    '',
    busy
      ? `Other work was running on this ${m.cores}-core machine during the run (load average above): ` +
        'absolute numbers are lower and noisier than on an idle machine; ratios measured in the ' +
        'same process are the steadier figures.'
      : 'The machine was otherwise quiet during the run.',
    '',
    '## Goals',
    '',
    '| Benchmark | Goal | Measured | Result |',
    '|---|---|---|---|',
    ...reports.flatMap((r) =>
      r.goals.map((g) => `| ${r.title} | ${g.goal} | ${g.measured} | ${verdict(g.pass)} |`),
    ),
    ...meta.failures.map(([name, err]) => `| ${name} | | did not run: ${oneLine(err)} | FAIL |`),
    '',
  ];
  for (const r of reports) {
    out.push(`## ${r.title}`, '', '| Metric | Value |', '|---|---|');
    for (const [k, v] of r.metrics) out.push(`| ${k} | ${v} |`);
    out.push('', 'Reproduce:', '', '```sh', r.command, '```', '');
    for (const n of r.notes) out.push(`- ${n}`);
    if (r.notes.length) out.push('');
    if (r.profile)
      out.push(
        "Hub CPU profile (`node --cpu-prof`), this benchmark's measured span only:",
        '',
        r.profile,
        '',
      );
  }
  if (meta.failures.length) {
    out.push('## Failures', '');
    for (const [name, err] of meta.failures) out.push(`### ${name}`, '', '```', err, '```', '');
  }
  if (meta.appendix) out.push(meta.appendix.trim(), '');
  return out.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
}

function oneLine(s: string): string {
  return (s.split('\n')[0] ?? '').replace(/\|/g, '\\|').slice(0, 160);
}
