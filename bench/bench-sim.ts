/**
 * The load generator as its own process: `fleetbench sim --passwords FILE`, exactly the command
 * a person would run (src/main/cli/sim-cli.ts), so the benchmark measures the hub against the
 * same simulated firmware the demo and the tests use.
 */
import { BenchChild } from './bench-child';

export interface SimProcessOptions {
  url: string;
  passwordsFile: string;
  count: number;
  /** Devices started per second; 0 = all at once. */
  ramp: number;
  /** The sim stops by itself after this many seconds (a bound in case we cannot stop it). */
  maxSeconds: number;
  label?: string;
}

export interface SimProcess {
  readonly child: BenchChild;
  /** The exact command line, for RESULTS.md. */
  readonly command: string;
  /** performance.now() when the sim printed that it is connecting (devices built, start() next). */
  started(timeoutMs: number): Promise<number>;
  /** Waits for the sim's own "all N devices ready" line and returns it. */
  allReadyLine(timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

export function simArgs(o: SimProcessOptions): string[] {
  return [
    'sim',
    '--url',
    o.url,
    '--passwords',
    o.passwordsFile,
    '--count',
    String(o.count),
    '--ramp',
    String(o.ramp),
    '--stats-interval',
    '0',
    '--duration',
    String(o.maxSeconds),
  ];
}

export function startSimProcess(o: SimProcessOptions): SimProcess {
  let startedAt: number | null = null;
  const args = simArgs(o);
  const child = BenchChild.node('bin/fleetbench.js', args, {
    label: o.label ?? 'sim',
    onLine: (line) => {
      if (startedAt === null && /^connecting \d+ simulated devices/.test(line)) {
        startedAt = performance.now();
      }
    },
  });
  return {
    child,
    command: `node bin/fleetbench.js ${args.join(' ')}`,
    async started(timeoutMs) {
      await child.waitForLine(/^connecting \d+ simulated devices/, timeoutMs);
      if (startedAt === null) throw new Error('sim start line seen but not timed');
      return startedAt;
    },
    async allReadyLine(timeoutMs) {
      const m = await child.waitForLine(/^all \d+ devices ready.*$/, timeoutMs);
      return m[0];
    },
    async stop() {
      await child.stop(15_000);
    },
  };
}
