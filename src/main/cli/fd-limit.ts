/**
 * The process's file limit for `serve --demo N` (issue 7 item 2: a 10,000-device demo ran out of
 * descriptors and took the hub down). Node has no setrlimit: on Linux and macOS it raises the
 * soft RLIMIT_NOFILE to the hard limit itself at startup, and where that did not happen (another
 * runtime, a limit lowered later) we ask util-linux `prlimit` to do it for our pid. What still
 * does not fit is refused with the numbers and how to raise the limit, instead of failing later
 * with EMFILE in the middle of the fleet.
 *
 * The numbers come from /proc (Linux); elsewhere nothing is checked.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { DEMO_CHILD_FD_RESERVE, DEMO_FD_RESERVE, DEMO_FDS_PER_DEVICE } from '../config';

export interface FdLimits {
  soft: number;
  hard: number;
}

/** Parses the "Max open files" row of /proc/<pid>/limits ("unlimited" is Infinity). */
export function parseFdLimits(limitsText: string): FdLimits | null {
  const row = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limitsText);
  if (!row?.[1] || !row[2]) return null;
  const num = (v: string): number => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: num(row[1]), hard: num(row[2]) };
}

export function readFdLimits(): FdLimits | null {
  try {
    return parseFdLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

/** Descriptors this process holds now, or 0 where /proc is missing. */
export function openFdCount(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/** Descriptors a demo of `devices` needs on top of what is open already. */
export function demoFdNeed(devices: number, openNow: number): number {
  return openNow + devices * DEMO_FDS_PER_DEVICE + DEMO_FD_RESERVE;
}

export type DemoFdVerdict =
  | { ok: true; need: number; limit: number }
  | { ok: false; need: number; limit: number; message: string };

/** Pure decision: does a demo of `devices` fit under `limit` descriptors? */
export function checkDemoFds(devices: number, openNow: number, limit: number): DemoFdVerdict {
  const need = demoFdNeed(devices, openNow);
  if (need <= limit) return { ok: true, need, limit };
  return {
    ok: false,
    need,
    limit,
    message:
      `a demo of ${devices} devices needs ~${need} file descriptors ` +
      `(${DEMO_FDS_PER_DEVICE} per device in the hub, whose devices run in a child process, ` +
      `plus ${DEMO_FD_RESERVE} for the hub), but the file limit is ${limit}; raise it ` +
      `(ulimit -n ${need}, or LimitNOFILE=${need} for a systemd service), use a smaller --demo, ` +
      `or run the devices on another machine with fleetbench sim`,
  };
}

/**
 * The demo child (the devices' own process): one descriptor per device socket plus a few for
 * node itself. Checked (and the soft limit raised where allowed) by the child at its start.
 */
export function ensureDemoChildFds(devices: number): { ok: boolean; message: string } | null {
  const limits = readFdLimits();
  if (!limits) return null;
  const need = openFdCount() + devices + DEMO_CHILD_FD_RESERVE;
  const fits = (limit: number): boolean => need <= limit;
  if (
    fits(limits.soft) ||
    (limits.soft < limits.hard && raiseSoftLimit(limits.hard) && fits(limits.hard))
  ) {
    return { ok: true, message: '' };
  }
  return {
    ok: false,
    message: `the demo's ${devices} devices need ~${need} file descriptors in their process, but the file limit is ${limits.hard}`,
  };
}

/** Raises the soft limit to the hard one through `prlimit --pid`; true when it took. */
function raiseSoftLimit(hard: number): boolean {
  const value = Number.isFinite(hard) ? String(hard) : 'unlimited';
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${value}:${value}`], {
      stdio: 'ignore',
      timeout: 5000,
    });
  } catch {
    return false; // no util-linux, or not allowed
  }
  return (readFdLimits()?.soft ?? 0) >= hard;
}

/**
 * Checks (and where allowed raises) the file limit for a demo of `devices`. Returns the verdict
 * with a note when the limit was raised; `null` where the limit cannot be read (not Linux).
 */
export function ensureDemoFds(devices: number): (DemoFdVerdict & { raisedFrom?: number }) | null {
  const limits = readFdLimits();
  if (!limits) return null;
  const openNow = openFdCount();
  const verdict = checkDemoFds(devices, openNow, limits.soft);
  if (verdict.ok || limits.soft >= limits.hard || !raiseSoftLimit(limits.hard)) return verdict;
  return { ...checkDemoFds(devices, openNow, limits.hard), raisedFrom: limits.soft };
}
