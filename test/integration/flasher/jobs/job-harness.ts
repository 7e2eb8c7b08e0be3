/**
 * Shared plumbing for the flash-job suites (jobs, api, bench, cli): finding the real worker
 * processes this test started, waiting for conditions, collecting a manager's states.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { FlashState } from '../../../../src/shared/flash-state';
import type { FlashJobManager, JobRecord } from '../../../../src/main/flasher/jobs/job-manager';

/** Pids of live flash worker processes whose parent is this process. */
export function workerPids(parent = process.pid): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (after the parenthesised command) is the parent pid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes('flash-worker')) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export async function until(
  cond: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface StateLog {
  all: { job: string; state: FlashState }[];
  of(job: string): FlashState[];
  /** State names of a job with consecutive repeats collapsed. */
  names(job: string): string[];
  stop(): void;
}

export function recordStates(manager: FlashJobManager): StateLog {
  const all: { job: string; state: FlashState }[] = [];
  const on = (job: JobRecord, state: FlashState): void => void all.push({ job: job.id, state });
  manager.on('state', on);
  const of = (job: string): FlashState[] => all.filter((x) => x.job === job).map((x) => x.state);
  return {
    all,
    of,
    names: (job) =>
      of(job)
        .map((s) => s.state)
        .filter((n, i, a) => n !== a[i - 1]),
    stop: () => void manager.off('state', on),
  };
}
