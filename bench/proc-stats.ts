/**
 * What Linux says about a process: resident memory (`/proc/<pid>/status` VmRSS, VmHWM) and CPU
 * time (`/proc/<pid>/stat` utime + stime). The hub runs as a child process so these numbers are
 * the hub's alone, not the load generator's.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface MemorySample {
  /** Resident set size now, KiB. */
  rssKb: number;
  /** Peak resident set size since start or since the last resetPeak(), KiB. */
  hwmKb: number;
}

/** Clock ticks per second of utime/stime; 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

export function readMemory(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKb: statusField(status, 'VmRSS'), hwmKb: statusField(status, 'VmHWM') };
}

/**
 * Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`), so a later peak belongs to
 * the phase being measured. Returns false where the kernel does not allow it.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User and system CPU time of a process so far, in milliseconds (`/proc/<pid>/stat`). */
export interface CpuTimes {
  userMs: number;
  sysMs: number;
}

export function cpuTimes(pid: number): CpuTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may contain spaces; fields after its closing parenthesis are space-separated.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so utime (field 14) is rest[11] and stime (15) is rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`cannot read CPU time of process ${pid}`);
  }
  return { userMs: (utime * 1000) / CLOCK_TICKS, sysMs: (stime * 1000) / CLOCK_TICKS };
}

/** User + system CPU time of the process so far, in milliseconds. */
export function cpuTimeMs(pid: number): number {
  const t = cpuTimes(pid);
  return t.userMs + t.sysMs;
}

/** CPU use between two cpuTimeMs() readings over a wall-clock span, as a share of one core. */
export function cpuShare(cpuBeforeMs: number, cpuAfterMs: number, wallMs: number): number {
  return wallMs > 0 ? (cpuAfterMs - cpuBeforeMs) / wallMs : 0;
}

function statusField(status: string, name: string): number {
  const m = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
  if (!m?.[1]) throw new Error(`no ${name} in /proc status`);
  return Number(m[1]);
}

/** Samples RSS every `everyMs` until stopped; keeps the largest value seen. */
export class RssSampler {
  maxKb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref(); // never what keeps a benchmark process alive
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.maxKb;
  }

  private sample(): void {
    try {
      this.maxKb = Math.max(this.maxKb, readMemory(this.pid).rssKb);
    } catch {
      // The process is gone; keep what we have.
    }
  }
}

/**
 * The kernel's count of connections dropped because a listen queue was full (`TcpExt:
 * ListenOverflows` in /proc/net/netstat), for this network namespace since boot: a difference
 * over a phase in which one server is storming says how many of its handshakes were dropped and
 * had to be retried (about 1 s each). Null where the file or the field is missing.
 */
export function listenOverflows(): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/net/netstat', 'utf8');
  } catch {
    return null; // no procfs here: the figure is left out
  }
  return netstatField(text, 'TcpExt:', 'ListenOverflows');
}

/** One counter of /proc/net/netstat's text: pairs of lines, names then values, per section. */
export function netstatField(text: string, section: string, name: string): number | null {
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = (lines[i] ?? '').trim().split(/\s+/);
    if (names[0] !== section) continue;
    const values = (lines[i + 1] ?? '').trim().split(/\s+/);
    const at = names.indexOf(name);
    const v = at === -1 ? NaN : Number(values[at]);
    return Number.isFinite(v) ? v : null;
  }
  return null;
}

/** `after - before` of two listenOverflows() readings, null if either is missing. */
export function overflowsBetween(before: number | null, after: number | null): number | null {
  return before === null || after === null ? null : after - before;
}
