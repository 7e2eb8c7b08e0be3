/**
 * A 1,000-device, 5-wave rollout of simulated devices (issue 8, PROTOCOL.md 9 `POST /rollouts`):
 * total time from the POST until the rollout is `completed`, and the hub's peak RSS.
 *
 * Run alone: node --import tsx bench/rollout-waves.ts [--devices 1000] [--size-kb 1024]
 *            [--health-s 1] [--concurrency 100] [--cpu-prof DIR]
 *
 * The devices are targeted by a label (`tags.labels`): a list of 1,000 ids does not fit the 8 KB
 * REST message limit. health_s is kept small on purpose (default 1 s): the health window is
 * waiting, not work, and would otherwise dominate the time.
 */
import { parseArgs } from 'node:util';
import Type from 'typebox';
import { isValid } from '../src/main/validate';
import { startOtaHubProcess } from './ota-hub';
import { createDevices, writePasswords } from './bench-devices';
import { HubClient } from './http-json';
import { SessionWatch } from './session-watch';
import { makeTempDir } from './temp-dir';
import { readMemory, RssSampler, cpuTimeMs } from './proc-stats';
import { monotonicUs, profileOf } from './cpu-profile-summary';
import { fmtMiB, fmtInt, type BenchReport } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';
import { benchAppImage } from './ota-image';
import { uploadFirmware } from './ota-rest';
import { startOtaSim, type OtaSim } from './ota-sim';
import type { HubProcess } from './bench-hub';

const LABEL = 'rolloutbench';
const WAVES = 5;

const Rollout = Type.Object({
  id: Type.String(),
  state: Type.String(),
  waves: Type.Array(Type.Object({ size: Type.Number(), state: Type.String() })),
  counts: Type.Object({
    pending: Type.Number(),
    updating: Type.Number(),
    done: Type.Number(),
    failed: Type.Number(),
    skipped: Type.Number(),
  }),
});
type Rollout = Type.Static<typeof Rollout>;

export interface RolloutOptions {
  devices?: number;
  sizeKb?: number;
  healthS?: number;
  concurrency?: number;
  cpuProfDir?: string;
  log?: (line: string) => void;
}

export interface RolloutResult {
  devices: number;
  sizeBytes: number;
  healthS: number;
  concurrency: number;
  totalMs: number;
  /** ms from the POST until each wave was first seen done. */
  waveDoneMs: number[];
  final: Rollout;
  idleRssKb: number;
  peakRssKb: number;
  hubCpuMs: number;
  profile: string | null;
}

export async function runRolloutWaves(o: RolloutOptions = {}): Promise<RolloutResult> {
  const count = o.devices ?? 1000;
  const sizeBytes = (o.sizeKb ?? 1024) * 1024;
  const healthS = o.healthS ?? 1;
  const concurrency = o.concurrency ?? 100;
  const log = o.log ?? (() => undefined);
  const tmp = makeTempDir('fb-bench-rollout-');
  let hub: HubProcess | null = null;
  let client: HubClient | null = null;
  let sim: OtaSim | null = null;
  let result: Omit<RolloutResult, 'profile'>;
  let window = { fromUs: 0, toUs: 0 };
  try {
    hub = await startOtaHubProcess({
      otaConcurrency: concurrency,
      ...(o.cpuProfDir !== undefined && { cpuProfDir: o.cpuProfDir }),
      onLine: (l) => log(`  [hub] ${l}`),
    });
    client = new HubClient(hub.http, hub.key, 16);
    const created = await createDevices(client, count, { prefix: 'roll-' });
    const ids = created.devices.map((d) => d.id);
    let next = 0;
    const c = client;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < ids.length) {
          const id = ids[next++] ?? '';
          await c.json('POST', `/api/v2/devices/${id}/shadow`, { tags: { labels: LABEL } });
        }
      }),
    );
    writePasswords(tmp.file('passwords.txt'), created.devices);
    const watch = await SessionWatch.open(hub.ws, hub.key, ids);
    sim = startOtaSim({
      url: hub.deviceUrl,
      passwordsFile: tmp.file('passwords.txt'),
      count,
      ramp: 500,
      maxSeconds: 3600,
      family: 'mos',
      label: 'sim-rollout',
    });
    try {
      await watch.allReady(180_000);
    } finally {
      await watch.close();
    }
    const fw = await uploadFirmware(hub.http, hub.key, benchAppImage(sizeBytes), 'rollout.bin');
    await new Promise((r) => setTimeout(r, 1000));
    const idleRssKb = readMemory(hub.pid).rssKb;
    log(`rollout: ${count} devices ready, RSS ${fmtMiB(idleRssKb)}; starting`);

    const sampler = new RssSampler(hub.pid, 200);
    const cpu0 = cpuTimeMs(hub.pid);
    const fromUs = monotonicUs();
    const t0 = performance.now();
    const body = await client.json('POST', '/api/v2/rollouts', {
      firmware: fw.id,
      labels: LABEL,
      waves: Array.from({ length: WAVES }, () => `${100 / WAVES}%`),
      max_failures: '5%',
      health_s: healthS,
      concurrency,
      skip_current: true,
      offline: 'skip',
    });
    if (!isValid(Rollout, body)) throw new Error(`POST /rollouts: ${JSON.stringify(body)}`);
    const waveDoneMs: number[] = [];
    let final: Rollout = body;
    let lastLog = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const r: unknown = await client.json('GET', `/api/v2/rollouts/${body.id}`);
      if (!isValid(Rollout, r)) throw new Error(`GET /rollouts/${body.id}: unexpected shape`);
      final = r;
      const now = performance.now() - t0;
      r.waves.forEach((w, i) => {
        if (w.state === 'done' && waveDoneMs[i] === undefined) waveDoneMs[i] = now;
      });
      if (now - lastLog > 10_000) {
        lastLog = now;
        log(`rollout: ${(now / 1000).toFixed(0)} s ${r.state} ${JSON.stringify(r.counts)}`);
      }
      if (r.state !== 'running') break;
      if (now > 3_000_000) throw new Error('rollout still running after 50 minutes');
    }
    const totalMs = performance.now() - t0;
    window = { fromUs, toUs: monotonicUs() };
    const hubCpuMs = cpuTimeMs(hub.pid) - cpu0;
    const peakRssKb = sampler.stop();
    log(
      `rollout: ${final.state} after ${(totalMs / 1000).toFixed(1)} s ${JSON.stringify(final.counts)}`,
    );
    result = {
      devices: count,
      sizeBytes,
      healthS,
      concurrency,
      totalMs,
      waveDoneMs,
      final,
      idleRssKb,
      peakRssKb,
      hubCpuMs,
    };
  } finally {
    client?.close();
    await sim?.stop();
    await hub?.stop();
    tmp.remove();
  }
  return { ...result, profile: hub ? profileOf(o.cpuProfDir, hub.pid, [window]) : null };
}

export function rolloutReport(r: RolloutResult): BenchReport {
  const kb = r.sizeBytes / 1024;
  const size = kb >= 1024 ? `${kb / 1024} MB` : `${kb} KB`;
  const ok = r.final.state === 'completed' && r.final.counts.done === r.devices;
  return {
    title: `Rollout: ${fmtInt(r.devices)} devices, ${WAVES} waves, ${size} image`,
    metrics: [
      ['Outcome', `${r.final.state}, ${JSON.stringify(r.final.counts)}`],
      ['Total time (POST /rollouts to completed)', `${(r.totalMs / 1000).toFixed(1)} s`],
      ['Waves done at', r.waveDoneMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')],
      ['Health window (health_s)', `${r.healthS} s (kept small on purpose)`],
      ['Rollout concurrency / hub OTA concurrency', `${r.concurrency} / ${r.concurrency}`],
      ['Hub CPU time during the rollout', `${fmtInt(r.hubCpuMs)} ms`],
      ['Hub RSS before / peak', `${fmtMiB(r.idleRssKb)} / ${fmtMiB(r.peakRssKb)}`],
    ],
    goals: [
      {
        goal: `${fmtInt(r.devices)}-device ${WAVES}-wave rollout completes (no goal on time or RSS)`,
        measured: `${r.final.state} in ${(r.totalMs / 1000).toFixed(1)} s, peak RSS ${fmtMiB(r.peakRssKb)}`,
        pass: r.devices >= 1000 ? ok : null,
      },
    ],
    command: `node --import tsx bench/rollout-waves.ts --devices ${r.devices} --size-kb ${kb} --health-s ${r.healthS} --concurrency ${r.concurrency}`,
    notes: [
      `One \`fleetbench sim --family mos --arch esp32\` process holds all devices; they are targeted by the label \`${LABEL}\` (set through \`POST /devices/:id/shadow\` tags), waves are ${WAVES} x ${100 / WAVES}%, \`max_failures\` 5%, \`skip_current\`, \`offline: skip\`.`,
      'The rollout is polled with `GET /api/v2/rollouts/:id` once a second, so times are to the second; RSS is VmRSS sampled every 200 ms.',
    ],
    ...(r.profile !== null && { profile: r.profile }),
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      'size-kb': { type: 'string' },
      'health-s': { type: 'string' },
      concurrency: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  runMain(async () => {
    const r = await runRolloutWaves({
      devices: intFlag(values.devices, 'devices', 1000, 5),
      sizeKb: intFlag(values['size-kb'], 'size-kb', 1024, 4),
      healthS: intFlag(values['health-s'], 'health-s', 1, 0),
      concurrency: intFlag(values.concurrency, 'concurrency', 100, 1),
      ...(values['cpu-prof'] !== undefined && { cpuProfDir: values['cpu-prof'] }),
      log: (l) => console.log(l),
    });
    const rep = rolloutReport(r);
    for (const [k, v] of rep.metrics) console.log(`${k}: ${v}`);
    for (const g of rep.goals) console.log(`goal: ${g.goal}: ${g.measured}: ${g.pass ?? 'n/a'}`);
    if (rep.profile) console.log(`\n${rep.profile}`);
  }, 3_600_000);
}
