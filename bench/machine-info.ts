/**
 * The machine a benchmark ran on, for RESULTS.md: numbers mean little without it. The load
 * average is recorded at start and end because other work on a shared machine skews results.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { REPO_ROOT } from './bench-child';
import { HUB_BUILD } from './hub-build';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  ramGiB: number;
  node: string;
  kernel: string;
  date: string;
  /** 1-minute load average when the run started. */
  loadAtStart: number;
  commit: string;
  /** True when the working tree had changes not in `commit`. */
  dirty: boolean;
  /** How the hub ran: its build or its sources (hub-build.ts). */
  hubBuild: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cores: cpus().length,
    ramGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: release(),
    date: new Date().toISOString(),
    loadAtStart: loadavg()[0] ?? 0,
    ...gitState(),
    hubBuild: HUB_BUILD,
  };
}

export function currentLoad(): number {
  return loadavg()[0] ?? 0;
}

function cpuModel(): string {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (m?.[1]) return m[1].trim();
  } catch {
    // not Linux: fall through
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** Read-only git queries; a checkout without git reports 'unknown'. */
function gitState(): { commit: string; dirty: boolean } {
  try {
    const opts = {
      cwd: REPO_ROOT,
      encoding: 'utf8' as const,
      stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[],
    };
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], opts).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts);
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
