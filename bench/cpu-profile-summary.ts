/**
 * Hot spots of a V8 CPU profile (`node --cpu-prof`, a `.cpuprofile` file): self time by function
 * and by source file, so a missed goal comes with where the hub spent its time.
 *
 * Run alone: node --import tsx bench/cpu-profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './bench-child';
import { parseArgs } from 'node:util';
import Type from 'typebox';
import { parseWith } from '../src/main/validate';
import { intFlag, isMain, runMain } from './bench-main';

const CpuProfile = Type.Object({
  nodes: Type.Array(
    Type.Object({
      id: Type.Integer(),
      callFrame: Type.Object({
        functionName: Type.String(),
        url: Type.String(),
        lineNumber: Type.Integer(),
      }),
    }),
  ),
  samples: Type.Array(Type.Integer()),
  timeDeltas: Type.Array(Type.Number()),
  startTime: Type.Number(),
  endTime: Type.Number(),
});

export interface HotSpot {
  name: string;
  selfMs: number;
  share: number;
}

/** A span on the machine's monotonic clock in microseconds (process.hrtime / 1000 in any process). */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

/** process.hrtime in microseconds: the clock V8 stamps profile samples with (CLOCK_MONOTONIC). */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface ProfileSummary {
  /** Wall time covered (the whole profile, or the windows). */
  totalMs: number;
  /** Time the event loop waited for work: (idle). */
  idleMs: number;
  gcMs: number;
  functions: HotSpot[];
  files: HotSpot[];
}

/** Shortens `file:///work/main/node_modules/x/y.js` to `x/y.js` and project paths to `src/...`. */
export function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
  const src = url.search(/\/(src|bench|test)\//);
  if (src !== -1) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(
  value: unknown,
  top = 25,
  windows: readonly ProfileWindow[] = [],
): ProfileSummary {
  const p = parseWith(CpuProfile, value);
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const fnMs = new Map<string, number>();
  const fileMs = new Map<string, number>();
  let idleMs = 0;
  let gcMs = 0;
  let totalMs = 0;
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; the span up to the next sample belongs to i.
    t += p.timeDeltas[i] ?? 0;
    if (windows.length && !windows.some((w) => t >= w.fromUs && t <= w.toUs)) return;
    const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
    totalMs += ms;
    const f = byId.get(id);
    if (!f) return;
    if (f.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    if (f.functionName === '(garbage collector)') gcMs += ms;
    const file = shortUrl(f.url);
    const fn = `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fnMs.set(fn, (fnMs.get(fn) ?? 0) + ms);
    fileMs.set(file, (fileMs.get(file) ?? 0) + ms);
  });
  const rank = (m: Map<string, number>): HotSpot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, selfMs]) => ({ name, selfMs, share: totalMs > 0 ? selfMs / totalMs : 0 }));
  return { totalMs, idleMs, gcMs, functions: rank(fnMs), files: rank(fileMs) };
}

export function readProfile(
  file: string,
  top?: number,
  windows?: readonly ProfileWindow[],
): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as unknown, top, windows);
}

/**
 * The main-thread profile a process wrote into `dir` (`CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile`;
 * thread 0 is the main thread, others are workers such as the tsx loader).
 */
export function mainThreadProfile(dir: string, pid: number): string | null {
  const re = new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.0\\.\\d+\\.cpuprofile$`);
  const found = readdirSync(dir).filter((f) => re.test(f));
  return found.length ? join(dir, found.sort().at(-1) ?? '') : null;
}

export function renderProfile(s: ProfileSummary, top = 15): string {
  const busy = s.totalMs - s.idleMs;
  const row = (h: HotSpot): string =>
    `| ${h.name.replace(/\|/g, '\\|')} | ${h.selfMs.toFixed(0)} | ${((h.selfMs / Math.max(1, busy)) * 100).toFixed(1)}% |`;
  return [
    `Profile span ${(s.totalMs / 1000).toFixed(1)} s: busy ${(busy / 1000).toFixed(1)} s ` +
      `(${((busy / Math.max(1, s.totalMs)) * 100).toFixed(0)}%), of which GC ${(s.gcMs / 1000).toFixed(1)} s.`,
    '',
    '| Function (self time) | ms | of busy |',
    '|---|---|---|',
    ...s.functions.slice(0, top).map(row),
    '',
    '| File (self time) | ms | of busy |',
    '|---|---|---|',
    ...s.files.slice(0, top).map(row),
  ].join('\n');
}

/**
 * The rendered hot spots of a hub that was run with `cpuProfDir`, limited to `windows`; null when
 * there is no profile (not profiled, or the hub did not exit cleanly).
 */
export function profileOf(
  dir: string | undefined,
  pid: number,
  windows: readonly ProfileWindow[],
  top = 12,
): string | null {
  if (dir === undefined) return null;
  const file = mainThreadProfile(dir, pid);
  return file === null
    ? null
    : `File: \`${relative(REPO_ROOT, file)}\`\n\n${renderProfile(readProfile(file, top + 5, windows), top)}`;
}

if (isMain(import.meta.url)) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string' } },
    allowPositionals: true,
  });
  const top = intFlag(values.top, 'top', 25, 1);
  runMain(async () => {
    for (const file of positionals) {
      console.log(`## ${file}\n`);
      console.log(renderProfile(readProfile(file, top + 5), top));
    }
  }, 60_000);
}
