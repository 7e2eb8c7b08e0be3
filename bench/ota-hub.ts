/**
 * The hub of the OTA and rollout benchmarks, as its own process like bench-hub.ts, but built with
 * `createHub()` so that options `fleetbench serve` has no flag for (the OTA concurrency limit) can
 * be set: `node --import tsx bench/ota-hub.ts --data-dir D --ota-concurrency N`. It prints the
 * same "master key:" and "REST API:" lines as `serve`, and stops cleanly on SIGTERM (so a
 * `--cpu-prof` profile is written).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHub } from '../src/main/hub';
import { BenchChild } from './bench-child';
import { attachHub, type HubProcess } from './bench-hub';
import { guardOnExit } from './exit-guard';
import { intFlag, isMain } from './bench-main';

export interface OtaHubOptions {
  /** Transfers the hub runs at once (config `ota.maxConcurrent`). */
  otaConcurrency: number;
  /** `OTA.Write` calls in flight hub-wide (config `ota.maxInflightWrites`); default: the hub's. */
  otaInflight?: number;
  cpuProfDir?: string;
  /** Print `process.memoryUsage()` as a `mem ...` line this often (where RSS goes). */
  memLogMs?: number;
  /**
   * Diagnosis only: run a full GC before each `mem` line (`--expose-gc`), so heapUsed there is
   * what is still referenced rather than garbage not yet collected.
   */
  gcBeforeMem?: boolean;
  onLine?: (line: string) => void;
}

export async function startOtaHubProcess(o: OtaHubOptions): Promise<HubProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fb-bench-ota-hub-'));
  const unguardDir = guardOnExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const flags = ['--import', 'tsx'];
  if (o.cpuProfDir !== undefined) flags.push('--cpu-prof', '--cpu-prof-dir', o.cpuProfDir);
  if (o.gcBeforeMem) flags.push('--expose-gc');
  const child = BenchChild.node(
    'bench/ota-hub.ts',
    [
      '--data-dir',
      dataDir,
      '--ota-concurrency',
      String(o.otaConcurrency),
      ...(o.otaInflight !== undefined ? ['--ota-inflight', String(o.otaInflight)] : []),
      ...(o.memLogMs !== undefined ? ['--mem-log-ms', String(o.memLogMs)] : []),
      ...(o.gcBeforeMem ? ['--gc-before-mem'] : []),
    ],
    { label: 'hub', nodeFlags: flags, ...(o.onLine && { onLine: o.onLine }) },
  );
  const cleanup = async (): Promise<void> => {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
    unguardDir();
  };
  return attachHub(child, dataDir, cleanup);
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      'ota-concurrency': { type: 'string' },
      'ota-inflight': { type: 'string' },
      'log-level': { type: 'string' },
      'mem-log-ms': { type: 'string' },
      'gc-before-mem': { type: 'boolean' },
    },
  });
  const dataDir = values['data-dir'];
  if (dataDir === undefined) throw new Error('--data-dir is required');
  const hub = createHub({
    host: '127.0.0.1',
    port: 0,
    tlsPort: null,
    dataDir,
    logLevel: values['log-level'] ?? 'warn',
    ota: {
      maxConcurrent: intFlag(values['ota-concurrency'], 'ota-concurrency', 16, 1),
      ...(values['ota-inflight'] !== undefined && {
        maxInflightWrites: intFlag(values['ota-inflight'], 'ota-inflight', 4, 1),
      }),
    },
  });
  const urls = await hub.start();
  console.log(`master key: ${hub.masterKey()}`);
  console.log(`REST API:   ${urls.http}`);
  const stop = (): void => {
    hub.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  const memEvery = intFlag(values['mem-log-ms'], 'mem-log-ms', 0, 0);
  if (memEvery > 0) {
    const kb = (n: number): number => Math.round(n / 1024);
    const gc = values['gc-before-mem'] === true ? globalThis.gc : undefined;
    setInterval(() => {
      gc?.();
      const m = process.memoryUsage();
      console.log(
        `mem rss=${kb(m.rss)} heapTotal=${kb(m.heapTotal)} heapUsed=${kb(m.heapUsed)} external=${kb(m.external)} arrayBuffers=${kb(m.arrayBuffers)}`,
      );
    }, memEvery).unref();
  }
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
