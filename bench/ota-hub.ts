/**
 * The hub of the OTA and rollout benchmarks, as its own process. With no option that `fleetbench
 * serve` lacks a flag for, it IS `fleetbench serve` from the build (bench-hub.ts, hub-build.ts):
 * what users run, without the `__name` call tsx's keepNames adds to every closure. Options serve
 * has no flag for (the OTA concurrency and in-flight limits, memory logging) need `createHub()`,
 * so those runs start this file through tsx instead: `node --import tsx bench/ota-hub.ts
 * --data-dir D --ota-concurrency N`. It prints the same "master key:" and "REST API:" lines as
 * `serve`, and stops cleanly on SIGTERM (so a `--cpu-prof` profile is written).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHub } from '../src/main/hub';
import { BenchChild } from './bench-child';
import { attachHub, startHubProcess, type HubProcess } from './bench-hub';
import { guardOnExit } from './exit-guard';
import { intFlag, isMain } from './bench-main';

export interface OtaHubOptions {
  /** Transfers the hub runs at once (config `ota.maxConcurrent`); default: the hub's (16). */
  otaConcurrency?: number;
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

/** Whether the run needs createHub() options that `fleetbench serve` has no flag for. */
export function needsSourceHub(o: OtaHubOptions): boolean {
  return (
    o.otaConcurrency !== undefined ||
    o.otaInflight !== undefined ||
    o.memLogMs !== undefined ||
    o.gcBeforeMem === true
  );
}

export async function startOtaHubProcess(o: OtaHubOptions): Promise<HubProcess> {
  if (!needsSourceHub(o)) {
    // The built CLI (or the sources with FLEETBENCH_BENCH_SOURCE=1, hub-build.ts).
    return startHubProcess({
      ...(o.cpuProfDir !== undefined && { cpuProfDir: o.cpuProfDir }),
      ...(o.onLine && { onLine: o.onLine }),
    });
  }
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
      ...(o.otaConcurrency !== undefined ? ['--ota-concurrency', String(o.otaConcurrency)] : []),
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
