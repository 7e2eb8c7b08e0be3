/**
 * A child process of a benchmark (the hub, the load generator, a worker): its output split into
 * lines, waits for a line that matches, and a stop that always ends it (SIGTERM, then SIGKILL
 * after a grace period). Benchmarks run the hub and the load in separate processes so the hub's
 * RSS and CPU time are its own and the load generator does not share its event loop.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { guardOnExit } from './exit-guard';
import { cliEnv, ensureBuilt } from './hub-build';

/** The repository root: children run from here so `--import tsx` and `bin/` resolve. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Lines kept for error messages. */
const TAIL_LINES = 40;

interface LineWaiter {
  re: RegExp;
  resolve: (m: RegExpMatchArray) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  label: string;
  /** Extra node flags before the script, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
  /** Called for every output line (stdout and stderr). */
  onLine?: (line: string) => void;
  /** Open an IPC channel (child_process.fork); the script is loaded through tsx. */
  ipc?: boolean;
  /**
   * false: leave the environment and out/ as they are, so `bin/fleetbench.js` runs whatever build
   * there is (cold-start.ts times the command a user runs, or `--bin` another checkout's). Default:
   * the working tree's build, or its sources (hub-build.ts).
   */
  fromSource?: boolean;
}

export class BenchChild {
  readonly exited: Promise<ChildExit>;
  private readonly tailLines: string[] = [];
  private waiters: LineWaiter[] = [];
  private exit: ChildExit | null = null;

  private constructor(
    readonly label: string,
    readonly proc: ChildProcess,
    private readonly onLine?: (line: string) => void,
  ) {
    for (const stream of [proc.stdout, proc.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          this.line(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
    }
    // Never outlive the benchmark, whatever way it ends.
    const unguard = guardOnExit(() => proc.kill('SIGKILL'));
    this.exited = new Promise<ChildExit>((resolve) => {
      proc.once('exit', (code, signal) => {
        unguard();
        this.exit = { code, signal };
        for (const w of this.waiters) {
          clearTimeout(w.timer);
          w.reject(
            new Error(`${label} exited (${code ?? signal}) before ${w.re}:\n${this.tail()}`),
          );
        }
        this.waiters = [];
        resolve(this.exit);
      });
    });
  }

  /** `node [flags] script args` from the repository root. */
  static node(script: string, args: string[], opts: SpawnOptions): BenchChild {
    const flags = opts.nodeFlags ?? [];
    const asIs = opts.fromSource === false;
    if (!asIs && script === 'bin/fleetbench.js') ensureBuilt();
    const env = asIs ? process.env : cliEnv();
    if (opts.ipc) {
      const proc = fork(script, args, {
        cwd: REPO_ROOT,
        execArgv: ['--import', 'tsx', ...flags],
        env,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      return new BenchChild(opts.label, proc, opts.onLine);
    }
    const proc = spawn(process.execPath, [...flags, script, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new BenchChild(opts.label, proc, opts.onLine);
  }

  get pid(): number {
    const pid = this.proc.pid;
    if (pid === undefined) throw new Error(`${this.label} has no pid (spawn failed)`);
    return pid;
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** The last output lines, for error messages. */
  tail(): string {
    return this.tailLines.map((l) => `  [${this.label}] ${l}`).join('\n');
  }

  /** Resolves with the first line (already seen or future) that matches. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    for (const l of this.tailLines) {
      const m = l.match(re);
      if (m) return Promise.resolve(m);
    }
    if (this.exit !== null) {
      return Promise.reject(new Error(`${this.label} is not running:\n${this.tail()}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`${this.label}: no line ${re} within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      this.waiters.push({ re, resolve, reject, timer });
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Never throws. */
  async stop(graceMs = 10_000): Promise<ChildExit> {
    if (this.exit !== null) return this.exit;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** Ends it at once, as a crash or power cut would. */
  async kill(): Promise<ChildExit> {
    if (this.exit !== null) return this.exit;
    this.proc.kill('SIGKILL');
    return this.exited;
  }

  private line(text: string): void {
    this.tailLines.push(text);
    if (this.tailLines.length > TAIL_LINES) this.tailLines.shift();
    this.onLine?.(text);
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      const m = text.match(w.re);
      if (!m) return true;
      clearTimeout(w.timer);
      w.resolve(m);
      return false;
    });
  }
}
