/**
 * 100 concurrent 1 MB OTAs (issue 8): total time, the hub's peak RSS against its idle RSS (goal:
 * under 100 MB more), and the p99 latency of REST RPCs (`POST /devices/:id/rpc/Sys.GetInfo`) to
 * other, idle devices during the transfers against the same calls with the hub idle (goal: at
 * most 3x).
 *
 * Run alone: node --import tsx bench/ota-concurrent.ts [--jobs 100] [--size-kb 1024] [--cpu-prof DIR]
 *
 * Processes: this one (REST clients), the hub (bench/ota-hub.ts, OTA concurrency = jobs), one
 * `fleetbench sim` with the updating devices and one with the idle devices the probe calls, so the
 * probe's replies never wait behind the updating devices' work in the same sim.
 */
import { parseArgs } from 'node:util';
import { startOtaHubProcess } from './ota-hub';
import { createDevices, writePasswords } from './bench-devices';
import { HubClient } from './http-json';
import { SessionWatch } from './session-watch';
import { makeTempDir } from './temp-dir';
import { fmtMs, type LatencySummary } from './latency';
import { startProbe, type Probe } from './latency-probe';
import { cpuTimeMs, readMemory, resetPeak, RssSampler } from './proc-stats';
import { monotonicUs, profileOf } from './cpu-profile-summary';
import { fmtMiB, fmtInt, type BenchReport } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';
import { benchAppImage } from './ota-image';
import { pollJobsFinal, startOta, uploadFirmware } from './ota-rest';
import { startOtaSim, type OtaSim } from './ota-sim';
import type { HubProcess } from './bench-hub';

export const RSS_GOAL_MB = 100;
export const P99_RATIO_GOAL = 3;

export interface OtaConcurrentOptions {
  jobs?: number;
  /** Hub config `ota.maxInflightWrites` (default: the hub's). */
  otaInflight?: number;
  sizeKb?: number;
  /** Idle devices the probe calls. Default 16. */
  idleDevices?: number;
  /** Concurrent probe callers. Default 4. */
  probeClients?: number;
  idleSeconds?: number;
  cpuProfDir?: string;
  /** Diagnosis: full GC before each memory sample of the hub (see ota-hub.ts). */
  gcBeforeMem?: boolean;
  log?: (line: string) => void;
}

export interface OtaConcurrentResult {
  jobs: number;
  sizeBytes: number;
  totalMs: number;
  done: number;
  failed: Record<string, number>;
  idleRssKb: number;
  peakRssKb: number;
  hubCpuMs: number;
  idleProbe: LatencySummary;
  busyProbe: LatencySummary;
  probeErrors: number;
  /** process.memoryUsage() of the hub, KiB: [rss, heapTotal, heapUsed, external, arrayBuffers]. */
  memIdle: MemParts | null;
  memPeak: MemParts | null;
  profile: string | null;
}

export type MemParts = [number, number, number, number, number];

/** Callers calling idle devices back to back until stopped; latencies of the calls that finished. */
function probe(client: HubClient, ids: readonly string[], clients: number): Probe {
  let k = 0;
  return startProbe(clients, async () => {
    const id = ids[k++ % ids.length] ?? '';
    return (await client.send('POST', `/api/v2/devices/${id}/rpc/Sys.GetInfo`, {})).status;
  });
}

export async function runOtaConcurrent(o: OtaConcurrentOptions = {}): Promise<OtaConcurrentResult> {
  const jobs = o.jobs ?? 100;
  const sizeBytes = (o.sizeKb ?? 1024) * 1024;
  const idleDevices = o.idleDevices ?? 16;
  const probeClients = o.probeClients ?? 4;
  const idleSeconds = o.idleSeconds ?? 5;
  const log = o.log ?? (() => undefined);
  const tmp = makeTempDir('fb-bench-ota100-');
  let hub: HubProcess | null = null;
  let client: HubClient | null = null;
  let probeClient: HubClient | null = null;
  const sims: OtaSim[] = [];
  let result: Omit<OtaConcurrentResult, 'profile'>;
  let window = { fromUs: 0, toUs: 0 };
  // The hub's own process.memoryUsage() lines: the last before the updates, the RSS peak during.
  const mem: { phase: 'setup' | 'idle' | 'busy'; idle?: MemParts; peak?: MemParts } = {
    phase: 'setup',
  };
  try {
    hub = await startOtaHubProcess({
      otaConcurrency: jobs,
      ...(o.otaInflight !== undefined && { otaInflight: o.otaInflight }),
      memLogMs: 200,
      ...(o.gcBeforeMem === true && { gcBeforeMem: true }),
      ...(o.cpuProfDir !== undefined && { cpuProfDir: o.cpuProfDir }),
      onLine: (l) => {
        const m =
          /^mem rss=(\d+) heapTotal=(\d+) heapUsed=(\d+) external=(\d+) arrayBuffers=(\d+)/.exec(l);
        if (!m) return log(`  [hub] ${l}`);
        const v = m.slice(1, 6).map(Number) as [number, number, number, number, number];
        if (mem.phase === 'idle') mem.idle = v;
        else if (mem.phase === 'busy' && v[0] > (mem.peak?.[0] ?? 0)) mem.peak = v;
      },
    });
    client = new HubClient(hub.http, hub.key, 32);
    probeClient = new HubClient(hub.http, hub.key, probeClients);
    const updating = await createDevices(client, jobs, { prefix: 'ota-' });
    const idle = await createDevices(client, idleDevices, { prefix: 'idle-' });
    const upIds = updating.devices.map((d) => d.id);
    const idleIds = idle.devices.map((d) => d.id);
    writePasswords(tmp.file('updating.txt'), updating.devices);
    writePasswords(tmp.file('idle.txt'), idle.devices);
    const watch = await SessionWatch.open(hub.ws, hub.key, [...upIds, ...idleIds]);
    for (const [file, count, label] of [
      ['updating.txt', jobs, 'sim-ota'],
      ['idle.txt', idleDevices, 'sim-idle'],
    ] as const) {
      sims.push(
        startOtaSim({
          url: hub.deviceUrl,
          passwordsFile: tmp.file(file),
          count,
          ramp: 0,
          maxSeconds: 1800,
          family: 'mos',
          label,
        }),
      );
    }
    try {
      await watch.allReady(120_000);
    } finally {
      await watch.close();
    }
    const fw = await uploadFirmware(hub.http, hub.key, benchAppImage(sizeBytes), 'ota100.bin');
    log(`ota-concurrent: ${jobs} + ${idleDevices} devices ready, firmware ${fw.id} uploaded`);

    // Idle: the probe alone.
    await new Promise((r) => setTimeout(r, 1000));
    mem.phase = 'idle';
    const idleProbe = probe(probeClient, idleIds, probeClients);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleRun = await idleProbe.stop();
    const idleRssKb = readMemory(hub.pid).rssKb;
    resetPeak(hub.pid);
    const sampler = new RssSampler(hub.pid, 100);
    log(
      `ota-concurrent: idle p99 ${fmtMs(idleRun.lat.summary().p99)} ms, RSS ${fmtMiB(idleRssKb)}`,
    );

    // Busy: all jobs at once (wait=0), the probe running until the last one is final.
    const cpu0 = cpuTimeMs(hub.pid);
    const fromUs = monotonicUs();
    const t0 = performance.now();
    mem.phase = 'busy';
    const busyProbe = probe(probeClient, idleIds, probeClients);
    const c = client;
    const started = await Promise.all(upIds.map((id) => startOta(c, id, fw.id, false)));
    const final = await pollJobsFinal(
      client,
      started.map((j) => j.id),
      1_500_000,
      500,
    );
    const totalMs = performance.now() - t0;
    const busyRun = await busyProbe.stop();
    mem.phase = 'setup';
    window = { fromUs, toUs: monotonicUs() };
    const hubCpuMs = cpuTimeMs(hub.pid) - cpu0;
    const peakRssKb = Math.max(sampler.stop(), readMemory(hub.pid).hwmKb);
    const failed: Record<string, number> = {};
    let done = 0;
    for (const j of final.values()) {
      if (j.state === 'done') done++;
      else {
        const why = `${j.state} ${j.error?.code ?? ''}`.trim();
        failed[why] = (failed[why] ?? 0) + 1;
      }
    }
    log(
      `ota-concurrent: ${done}/${jobs} done in ${fmtMs(totalMs)} ms, peak RSS ${fmtMiB(peakRssKb)}`,
    );
    result = {
      jobs,
      sizeBytes,
      totalMs,
      done,
      failed,
      idleRssKb,
      peakRssKb,
      hubCpuMs,
      idleProbe: idleRun.lat.summary(),
      busyProbe: busyRun.lat.summary(),
      probeErrors: idleRun.errors + busyRun.errors,
      memIdle: mem.idle ?? null,
      memPeak: mem.peak ?? null,
    };
  } finally {
    client?.close();
    probeClient?.close();
    for (const s of sims) await s.stop();
    await hub?.stop();
    tmp.remove();
  }
  return { ...result, profile: hub ? profileOf(o.cpuProfDir, hub.pid, [window]) : null };
}

function memText(m: MemParts | null): string {
  return m === null ? 'n/a' : m.map((kb) => `${(kb / 1024).toFixed(1)}`).join(' / ') + ' MiB';
}

export function otaConcurrentReport(r: OtaConcurrentResult): BenchReport {
  const mb = r.sizeBytes / 1048576;
  const extraMb = (r.peakRssKb - r.idleRssKb) / 1024;
  const ratio = r.busyProbe.p99 / Math.max(0.001, r.idleProbe.p99);
  const atScale = r.jobs >= 100 && mb >= 1;
  return {
    title: `${r.jobs} concurrent ${mb} MB OTAs`,
    metrics: [
      [
        'Updates done',
        `${r.done} of ${r.jobs}${Object.keys(r.failed).length ? ` (${JSON.stringify(r.failed)})` : ''}`,
      ],
      ['Total time (first POST to last job final)', `${(r.totalMs / 1000).toFixed(1)} s`],
      [
        'Image bytes delivered per second',
        `${((r.done * r.sizeBytes) / 1048576 / (r.totalMs / 1000)).toFixed(1)} MB/s`,
      ],
      ['Hub CPU time during the run', `${fmtInt(r.hubCpuMs)} ms`],
      ['Hub RSS idle (devices connected, firmware stored)', fmtMiB(r.idleRssKb)],
      ['Hub peak RSS during the updates', `${fmtMiB(r.peakRssKb)} (+${extraMb.toFixed(1)} MiB)`],
      [
        'Probe RPC p50 / p99, idle',
        `${fmtMs(r.idleProbe.p50)} / ${fmtMs(r.idleProbe.p99)} ms (${r.idleProbe.count} calls)`,
      ],
      [
        'Probe RPC p50 / p99, during the updates',
        `${fmtMs(r.busyProbe.p50)} / ${fmtMs(r.busyProbe.p99)} ms (${r.busyProbe.count} calls)`,
      ],
      ['Probe errors', String(r.probeErrors)],
      [
        'Hub memoryUsage() idle: rss / heapTotal / heapUsed / external / arrayBuffers',
        memText(r.memIdle),
      ],
      ['Hub memoryUsage() at the RSS peak', memText(r.memPeak)],
    ],
    goals: [
      {
        goal: `${r.jobs} x ${mb} MB OTAs: hub peak RSS < ${RSS_GOAL_MB} MB above idle`,
        measured: `+${extraMb.toFixed(1)} MiB`,
        pass: atScale ? extraMb < RSS_GOAL_MB && r.done === r.jobs : null,
      },
      {
        goal: `REST RPC p99 to idle devices during the OTAs <= ${P99_RATIO_GOAL}x idle`,
        measured: `${ratio.toFixed(2)}x (${fmtMs(r.busyProbe.p99)} vs ${fmtMs(r.idleProbe.p99)} ms)`,
        pass: atScale ? ratio <= P99_RATIO_GOAL : null,
      },
    ],
    command: `node --import tsx bench/ota-concurrent.ts --jobs ${r.jobs} --size-kb ${r.sizeBytes / 1024}`,
    notes: [
      `The hub runs with OTA concurrency ${r.jobs} (config \`ota.maxConcurrent\`; \`bench/ota-hub.ts\` builds it with \`createHub\` since \`serve\` has no flag for it). All jobs are started with \`POST /api/v2/devices/:id/ota?wait=0\` \`{"firmware"}\` at once; completion is polled with \`GET /api/v2/ota\` every 500 ms (no notification subscriber, which would receive every \`rpc.in.OTA.Write\`).`,
      `Updating devices: one \`fleetbench sim --family mos\` process; probe targets: another sim process with the idle devices; the probe is 4 callers doing \`POST /api/v2/devices/:id/rpc/Sys.GetInfo\` back to back, first alone (idle window) and then from the first OTA POST until the last job is final.`,
      'RSS is VmRSS sampled every 100 ms plus VmHWM (reset with clear_refs after the idle window); idle RSS is taken after the idle probe, with every device connected and the firmware in the library.',
    ],
    ...(r.profile !== null && { profile: r.profile }),
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string' },
      'size-kb': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'diag-gc': { type: 'boolean' },
      'ota-inflight': { type: 'string' },
    },
  });
  runMain(async () => {
    const r = await runOtaConcurrent({
      gcBeforeMem: values['diag-gc'] === true,
      jobs: intFlag(values.jobs, 'jobs', 100, 1),
      ...(values['ota-inflight'] !== undefined && {
        otaInflight: intFlag(values['ota-inflight'], 'ota-inflight', 4, 1),
      }),
      sizeKb: intFlag(values['size-kb'], 'size-kb', 1024, 4),
      ...(values['cpu-prof'] !== undefined && { cpuProfDir: values['cpu-prof'] }),
      log: (l) => console.log(l),
    });
    const rep = otaConcurrentReport(r);
    for (const [k, v] of rep.metrics) console.log(`${k}: ${v}`);
    for (const g of rep.goals) console.log(`goal: ${g.goal}: ${g.measured}: ${g.pass ?? 'n/a'}`);
    if (rep.profile) console.log(`\n${rep.profile}`);
  }, 1_800_000);
}
