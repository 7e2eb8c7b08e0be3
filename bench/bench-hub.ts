/**
 * The hub under test, as its own process: `fleetbench serve` on 127.0.0.1, port 0, a fresh temp
 * data dir, reached the way any client reaches it (the printed master key and REST URL).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchChild } from './bench-child';
import { guardOnExit } from './exit-guard';
import { readMemory, type MemorySample } from './proc-stats';

export interface HubProcessOptions {
  /** Reuse this data dir (a restart); it is then left in place by stop(). Default: a new temp dir. */
  dataDir?: string;
  /** Write a V8 CPU profile of the hub into this directory when it exits (`node --cpu-prof`). */
  cpuProfDir?: string;
  /** Let SIGUSR2 write a heap snapshot into this directory (bench/heap-snapshot.ts). */
  heapSnapshotDir?: string;
  /** More node/V8 flags for the hub process (`--trace-gc`, heap sizes). */
  nodeFlags?: string[];
  /** Hub log level; default 'warn'. */
  logLevel?: string;
  /** Echo the hub's output lines (warnings, errors) to this function. */
  onLine?: (line: string) => void;
}

export interface HubProcess {
  readonly child: BenchChild;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly http: string;
  /** `ws://127.0.0.1:<port>` */
  readonly ws: string;
  readonly deviceUrl: string;
  readonly key: string;
  readonly dataDir: string;
  memory(): MemorySample;
  /** SIGTERM (graceful: the CPU profile is written), then removes the data dir if it made it. */
  stop(): Promise<void>;
  /** SIGKILL, keeping the data dir for inspection; call stop() afterwards to remove it. */
  kill(): Promise<void>;
}

const BIN = 'bin/fleetbench.js';
const START_TIMEOUT_MS = 60_000;

export async function startHubProcess(opts: HubProcessOptions = {}): Promise<HubProcess> {
  const ownsDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'fb-bench-hub-'));
  const unguardDir = ownsDir
    ? guardOnExit(() => rmSync(dataDir, { recursive: true, force: true }))
    : () => undefined;
  const flags = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  flags.push(...(opts.nodeFlags ?? []));
  if (opts.heapSnapshotDir !== undefined) {
    // V8 writes the snapshot into this directory when signalled; it does not create it.
    mkdirSync(opts.heapSnapshotDir, { recursive: true });
    flags.push('--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir', opts.heapSnapshotDir);
  }
  const child = BenchChild.node(
    BIN,
    [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      // No TLS listener: it would hold the default port 8443 and nothing here uses it.
      '--tls-port',
      'off',
      '--data-dir',
      dataDir,
      '--log-level',
      opts.logLevel ?? 'warn',
    ],
    { label: 'hub', nodeFlags: flags, ...(opts.onLine && { onLine: opts.onLine }) },
  );
  const cleanup = async (): Promise<void> => {
    await child.stop();
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    unguardDir();
  };
  return attachHub(child, dataDir, cleanup);
}

/**
 * Waits for the hub's "master key:" and "REST API:" lines (printed by `serve` and by
 * bench/ota-hub.ts alike) and builds the handle; on failure the child is cleaned up.
 */
export async function attachHub(
  child: BenchChild,
  dataDir: string,
  cleanup: () => Promise<void>,
): Promise<HubProcess> {
  try {
    const keyLine = await child.waitForLine(/master key: (\S+)/, START_TIMEOUT_MS);
    const apiLine = await child.waitForLine(/REST API:\s+(http:\/\/[\d.]+:\d+)/, START_TIMEOUT_MS);
    const key = keyLine[1];
    const http = apiLine[1];
    if (key === undefined || http === undefined) throw new Error('hub printed no key or URL');
    const ws = http.replace(/^http/, 'ws');
    return {
      child,
      pid: child.pid,
      http,
      ws,
      deviceUrl: `${ws}/api/v2/rpc`,
      key,
      dataDir,
      memory: () => readMemory(child.pid),
      stop: cleanup,
      async kill() {
        await child.kill();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
