/**
 * One 1 MB OTA to one simulated device over loopback, for each firmware family (PROTOCOL.md 6),
 * against the floor: the same bytes sent by this process as bare sequential request/reply frames
 * (`OTA.Begin`, `OTA.Write {"offset","data":<base64 of 2048 bytes>}` awaiting each reply,
 * `OTA.End`) on one socket from a bare `ws` server (bare-device-server.ts) to the same kind of
 * simulated device. Goal (issue 8): the hub's transfer takes at most 1.3x the bare time.
 *
 * Run alone: node --import tsx bench/ota-single.ts [--size-kb 1024] [--rounds 3] [--warmup 10]
 *            [--family arduino|mos] [--cpu-prof DIR]
 *
 * Warm-up rounds (both sides, not recorded) come first: without them the medians mixed cold and
 * warm runs (the bare side went from 155 to 39 ms over nine rounds as this process's JIT warmed up),
 * which made the ratio swing by 0.2 between identical runs.
 *
 * Hub time = from the job's `sending` to its `rebooting` state, by the hub's clock (the job's
 * `timeline`), measured twice per round: with this process subscribed to `/api/v2/notify` (every
 * `OTA.Write` then also reaches it as an `rpc.in.OTA.Write` notification) and with no subscriber.
 * The receipt times of the `ota.state` notifications were used before: they added this process's
 * own lag in parsing 1.4 MB of notifications to the hub's time. The transfer is the part the bare
 * frames stand for, timed over the same span (`OTA.Begin` to the last `OTA.Write` reply); the goal
 * is reported for both runs. The whole job (REST call to `done`, including the device's reboot,
 * reconnect and Sys.GetInfo) is reported beside it. The hub is the built `fleetbench serve`
 * (ota-hub.ts), not the sources through tsx.
 *
 * The goal is judged on the median of per-round ratios (hub_i / bare_i of the same round), not on
 * the ratio of the medians: this machine's speed drifts by 2x between minutes, and a hub median
 * and a bare median may come from rounds run at different speeds. Both are reported.
 */
import { parseArgs } from 'node:util';
import { startOtaHubProcess } from './ota-hub';
import { createDevices, writePasswords } from './bench-devices';
import { HubClient } from './http-json';
import { SessionWatch } from './session-watch';
import { BareDeviceServer } from './bare-device-server';
import { makeTempDir } from './temp-dir';
import { fmtMs } from './latency';
import { monotonicUs, profileOf, type ProfileWindow } from './cpu-profile-summary';
import type { BenchReport } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';
import { benchAppImage } from './ota-image';
import { OtaWatch, startOta, uploadFirmware, type Job } from './ota-rest';
import { startOtaSim, type OtaSim, type SimFamily } from './ota-sim';
import type { HubProcess } from './bench-hub';

export const OTA_RATIO_GOAL = 1.3;
/**
 * Warm-up rounds before the recorded ones. The bare side runs in this process, whose JIT was
 * still warming after three rounds (bare runs fell from 166 to 41 ms over nine): a median of such
 * rounds made the floor slow and flattered the hub's ratio (bench/RESULTS.md, 2026-12-06).
 */
const DEFAULT_WARMUP = 10;
const CHUNK = 2048;

export interface OtaSingleOptions {
  sizeKb?: number;
  /** Updates per family and side; the medians are reported. Default 3. */
  rounds?: number;
  /** Rounds run first on both sides and not recorded (JIT and page-cache warm-up). Default 2. */
  warmup?: number;
  cpuProfDir?: string;
  /** Run these families only (a profile of one family); default both. */
  families?: readonly SimFamily[];
  log?: (line: string) => void;
}

export interface FamilyResult {
  family: SimFamily;
  /** Medians, ms. */
  hubTransferMs: number;
  hubJobMs: number;
  bareMs: number;
  /** Ratio of the medians, with a subscriber. */
  ratio: number;
  /** Median of per-round ratios hub_i / bare_i, with a subscriber. */
  roundRatio: number;
  hubRuns: number[];
  /** Transfer with no notification subscriber, median and runs (hub clock). */
  quietTransferMs: number;
  quietTransferRuns: number[];
  /** Ratio of the medians, no subscriber. */
  quietRatio: number;
  /** Per-round ratios quiet_i / bare_i and their median (the goal's measure). */
  quietRoundRatios: number[];
  quietRoundRatio: number;
  bareRuns: number[];
  /** Bare: OTA.Begin to the OTA.End reply (the floor's span before 2026-12-06), median. */
  bareWithEndMs: number;
  /** Bare: OTA.Begin to the device back and answering Sys.GetInfo. */
  bareWholeMs: number;
  /** Hub: the REST call until done with no notification subscriber connected. */
  quietJobMs: number;
}

export interface OtaSingleResult {
  sizeBytes: number;
  rounds: number;
  warmup: number;
  families: FamilyResult[];
  profile: string | null;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? 0;
};

/**
 * The bare floor: the frames the hub would send, straight from a `ws` server. `transferMs` spans
 * what the hub's `sending` -> `rebooting` spans: `OTA.Begin` to the reply of the last
 * `OTA.Write` (the hub enters `rebooting` before it sends `OTA.End`). The floor used to include
 * the `OTA.End` round trip too, in which a Mongoose OS device hashes the whole image: a few ms
 * the hub's time never held, which made the floor slower than the hub's span. `withEndMs` is that
 * old span, still reported.
 */
async function bareTransfer(
  bare: BareDeviceServer,
  image: Uint8Array,
): Promise<{ transferMs: number; withEndMs: number }> {
  const s = bare.sessions.at(-1);
  if (!s) throw new Error('bare server: no device session');
  const src = '$sys/bare';
  const check = (r: string | null, what: string): void => {
    if (r !== null) throw new Error(`bare ${what}: ${r}`);
  };
  const t0 = performance.now();
  check(
    await s.call('OTA.Begin', { size: image.length, commit_timeout: 600 }, src, 30_000),
    'Begin',
  );
  for (let off = 0; off < image.length; off += CHUNK) {
    const data = Buffer.from(
      image.buffer,
      image.byteOffset + off,
      Math.min(CHUNK, image.length - off),
    ).toString('base64');
    check(await s.call('OTA.Write', { offset: off, data }, src, 30_000), `Write@${off}`);
  }
  const transferMs = performance.now() - t0;
  check(await s.call('OTA.End', {}, src, 30_000), 'End');
  return { transferMs, withEndMs: performance.now() - t0 };
}

export async function runOtaSingle(o: OtaSingleOptions = {}): Promise<OtaSingleResult> {
  const sizeBytes = (o.sizeKb ?? 1024) * 1024;
  const rounds = o.rounds ?? 3;
  const warmup = o.warmup ?? DEFAULT_WARMUP;
  const log = o.log ?? (() => undefined);
  const tmp = makeTempDir('fb-bench-ota1-');
  let hub: HubProcess | null = null;
  let client: HubClient | null = null;
  let watch: OtaWatch | null = null;
  const sims: OtaSim[] = [];
  const bares: BareDeviceServer[] = [];
  const windows: ProfileWindow[] = [];
  const families: FamilyResult[] = [];
  try {
    // One transfer at a time: the OTA limits stay the hub's defaults, so this is the built
    // `fleetbench serve` a user runs (ota-hub.ts).
    hub = await startOtaHubProcess({
      ...(o.cpuProfDir !== undefined && { cpuProfDir: o.cpuProfDir }),
      onLine: (l) => log(`  [hub] ${l}`),
    });
    client = new HubClient(hub.http, hub.key, 4);
    watch = await OtaWatch.open(hub.ws, hub.key);
    for (const family of o.families ?? (['mos', 'arduino'] as const)) {
      const created = await createDevices(client, 1, { prefix: `ota1-${family}-` });
      const id = created.devices[0]?.id ?? '';
      const passwords = tmp.file(`${family}.txt`);
      writePasswords(passwords, created.devices);
      const sw = await SessionWatch.open(hub.ws, hub.key, [id]);
      const simHub = startOtaSim({
        url: hub.deviceUrl,
        passwordsFile: passwords,
        count: 1,
        ramp: 0,
        maxSeconds: 900,
        family,
        label: `sim-hub-${family}`,
      });
      sims.push(simHub);
      try {
        await sw.allReady(60_000);
      } finally {
        await sw.close();
      }
      const bare = await BareDeviceServer.listen();
      bares.push(bare);
      const simBare = startOtaSim({
        url: bare.url,
        passwordsFile: passwords,
        count: 1,
        ramp: 0,
        maxSeconds: 900,
        family,
        label: `sim-bare-${family}`,
      });
      sims.push(simBare);
      await bare.waitForSessions(1, 60_000);

      const hubRuns: number[] = [];
      const jobRuns: number[] = [];
      const bareRuns: number[] = [];
      const bareEndRuns: number[] = [];
      const bareWholeRuns: number[] = [];
      const quietRuns: number[] = [];
      const quietTransferRuns: number[] = [];
      for (let r = -warmup; r < rounds; r++) {
        // Alternate so drifting background load hits both alike.
        const image = benchAppImage(sizeBytes);
        const before = bare.sessions.length;
        const b0 = performance.now();
        const { transferMs: bareMsThis, withEndMs: bareEndThis } = await bareTransfer(bare, image);
        await bare.waitForSessions(before + 1, 30_000); // the device rebooted and came back
        const back = bare.sessions.at(-1);
        const info = await back?.call('Sys.GetInfo', {}, '$sys/bare', 30_000);
        if (info !== null) throw new Error(`bare Sys.GetInfo after reboot: ${String(info)}`);
        const bareWholeThis = performance.now() - b0;
        // The same update through the hub with nobody watching notifications: every OTA.Write
        // also goes out as an rpc.in.OTA.Write notification to each /api/v2/notify subscriber.
        const quiet = await uploadFirmware(
          hub.http,
          hub.key,
          benchAppImage(sizeBytes),
          `q-${family}-${r}.bin`,
        );
        await watch.close();
        const qFrom = monotonicUs();
        const q0 = performance.now();
        const qJob = await startOta(client, id, quiet.id, true);
        const quietThis = performance.now() - q0;
        // The profile covers both updates of a recorded round (with and without a subscriber).
        if (r >= 0) windows.push({ fromUs: qFrom, toUs: monotonicUs() });
        if (qJob.state !== 'done') throw new Error(`OTA ${family} ended ${qJob.state}`);
        watch = await OtaWatch.open(hub.ws, hub.key);
        const fw = await uploadFirmware(hub.http, hub.key, image, `ota1-${family}-${r}.bin`);
        const from = monotonicUs();
        const t0 = performance.now();
        const job = await startOta(client, id, fw.id, true);
        const jobMs = performance.now() - t0;
        if (r >= 0) windows.push({ fromUs: from, toUs: monotonicUs() });
        if (job.state !== 'done') {
          throw new Error(`OTA ${family} ended ${job.state}: ${JSON.stringify(job.error ?? {})}`);
        }
        await watch.waitAll([job.id], 10_000);
        const transfer = transferMs(job);
        const quietTransfer = transferMs(qJob);
        const round = r < 0 ? `warm-up ${r + warmup + 1}` : `round ${r + 1}`;
        log(
          `ota-single ${family} ${round}: bare ${fmtMs(bareMsThis)} ms (with OTA.End ${fmtMs(bareEndThis)}, whole ${fmtMs(bareWholeThis)}), hub transfer ${fmtMs(transfer)} ms (unwatched ${fmtMs(quietTransfer)}), whole job ${fmtMs(jobMs)} ms (unwatched ${fmtMs(quietThis)})`,
        );
        if (r < 0) continue;
        bareRuns.push(bareMsThis);
        bareEndRuns.push(bareEndThis);
        bareWholeRuns.push(bareWholeThis);
        quietRuns.push(quietThis);
        hubRuns.push(transfer);
        quietTransferRuns.push(quietTransfer);
        jobRuns.push(jobMs);
      }
      const hubTransferMs = median(hubRuns);
      const bareMs = median(bareRuns);
      const quietRoundRatios = quietTransferRuns.map((q, i) => q / (bareRuns[i] ?? NaN));
      families.push({
        family,
        hubTransferMs,
        hubJobMs: median(jobRuns),
        bareMs,
        ratio: hubTransferMs / bareMs,
        roundRatio: median(hubRuns.map((h, i) => h / (bareRuns[i] ?? NaN))),
        quietTransferMs: median(quietTransferRuns),
        quietTransferRuns,
        quietRatio: median(quietTransferRuns) / bareMs,
        quietRoundRatios,
        quietRoundRatio: median(quietRoundRatios),
        bareWholeMs: median(bareWholeRuns),
        bareWithEndMs: median(bareEndRuns),
        quietJobMs: median(quietRuns),
        hubRuns,
        bareRuns,
      });
    }
  } finally {
    await watch?.close();
    client?.close();
    for (const s of sims) await s.stop();
    for (const b of bares) await b.close();
    await hub?.stop();
    tmp.remove();
  }
  return {
    sizeBytes,
    rounds,
    warmup,
    families,
    profile: hub ? profileOf(o.cpuProfDir, hub.pid, windows) : null,
  };
}

export function otaSingleReport(r: OtaSingleResult): BenchReport {
  const mb = (r.sizeBytes / 1048576).toFixed(r.sizeBytes % 1048576 === 0 ? 0 : 2);
  return {
    title: `One ${mb} MB OTA over loopback`,
    metrics: r.families.flatMap((f): [string, string][] => [
      [
        `${f.family}: hub transfer (sending -> rebooting), median`,
        `${fmtMs(f.hubTransferMs)} ms (runs ${f.hubRuns.map(fmtMs).join(', ')})`,
      ],
      [
        `${f.family}: bare sequential frames, median`,
        `${fmtMs(f.bareMs)} ms (runs ${f.bareRuns.map(fmtMs).join(', ')})`,
      ],
      [
        `${f.family}: bare including the OTA.End round trip, median`,
        `${fmtMs(f.bareWithEndMs)} ms`,
      ],
      [
        `${f.family}: whole job (REST call until done, with reboot and reconnect)`,
        `${fmtMs(f.hubJobMs)} ms`,
      ],
      [
        `${f.family}: hub / bare (transfer), median of per-round ratios`,
        `${f.roundRatio.toFixed(2)}x (ratio of medians ${f.ratio.toFixed(2)}x)`,
      ],
      [
        `${f.family}: hub transfer with no notification subscriber, median`,
        `${fmtMs(f.quietTransferMs)} ms (runs ${f.quietTransferRuns.map(fmtMs).join(', ')}) = ${f.quietRatio.toFixed(2)}x bare (ratio of medians)`,
      ],
      [
        `${f.family}: no subscriber, per-round hub / bare`,
        `median ${f.quietRoundRatio.toFixed(2)}x (rounds ${f.quietRoundRatios.map((x) => x.toFixed(2)).join(', ')})`,
      ],
      [
        `${f.family}: whole update, no notification subscriber: hub / bare`,
        `${fmtMs(f.quietJobMs)} / ${fmtMs(f.bareWholeMs)} ms = ${(f.quietJobMs / f.bareWholeMs).toFixed(2)}x`,
      ],
    ]),
    goals: r.families.flatMap((f) => [
      {
        goal: `${f.family}: ${mb} MB OTA <= ${OTA_RATIO_GOAL}x bare request/reply frames (median of per-round ratios)`,
        measured: `${f.quietRoundRatio.toFixed(2)}x (ratio of medians ${f.quietRatio.toFixed(2)}x: ${fmtMs(f.quietTransferMs)} vs ${fmtMs(f.bareMs)} ms)`,
        pass: r.sizeBytes >= 1048576 ? f.quietRoundRatio <= OTA_RATIO_GOAL : null,
      },
      {
        goal: `${f.family}: the same with a /api/v2/notify subscriber on this machine`,
        measured: `${f.roundRatio.toFixed(2)}x (ratio of medians ${f.ratio.toFixed(2)}x: ${fmtMs(f.hubTransferMs)} vs ${fmtMs(f.bareMs)} ms)`,
        pass: r.sizeBytes >= 1048576 ? f.roundRatio <= OTA_RATIO_GOAL : null,
      },
    ]),
    command: `node --import tsx bench/ota-single.ts --size-kb ${r.sizeBytes / 1024} --rounds ${r.rounds} --warmup ${r.warmup}${r.families.length === 1 ? ` --family ${r.families[0]?.family}` : ''}`,
    notes: [
      `Both sides send ${r.sizeBytes} bytes as \`OTA.Write\` frames of 2048 raw bytes (base64) one at a time, each awaiting its reply, to one \`fleetbench sim\` device of the family (separate sim processes, \`--ota-reboot-delay 50\`); the hub runs in its own process with the firmware uploaded to its library first.`,
      'Hub transfer is timed from the `sending` to the `rebooting` state by the hub clock (the job `timeline`), with and without this process subscribed to `/api/v2/notify`; the bare time over the same span, from `OTA.Begin` to the reply of the last `OTA.Write` (the hub enters `rebooting` before it sends `OTA.End`). Rounds alternate bare and hub; warm-up rounds on both sides are not recorded; medians are reported. The goal is the median of per-round ratios (hub and bare of the same round, so a drift of the machine speed between rounds cancels out); the ratio of the medians is shown beside it.',
      'The hub is the built `fleetbench serve` (bench/hub-build.ts) with its default OTA limits.',
    ],
    ...(r.profile !== null && { profile: r.profile }),
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      'size-kb': { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      'cpu-prof': { type: 'string' },
      family: { type: 'string' },
    },
  });
  const fam = values.family;
  if (fam !== undefined && fam !== 'arduino' && fam !== 'mos') {
    throw new Error(`--family must be arduino or mos, got ${fam}`);
  }
  runMain(async () => {
    const r = await runOtaSingle({
      sizeKb: intFlag(values['size-kb'], 'size-kb', 1024, 4),
      rounds: intFlag(values.rounds, 'rounds', 3, 1),
      warmup: intFlag(values.warmup, 'warmup', DEFAULT_WARMUP, 0),
      ...(values['cpu-prof'] !== undefined && { cpuProfDir: values['cpu-prof'] }),
      ...(fam !== undefined && { families: [fam] }),
      log: (l) => console.log(l),
    });
    const rep = otaSingleReport(r);
    for (const [k, v] of rep.metrics) console.log(`${k}: ${v}`);
    for (const g of rep.goals) console.log(`goal: ${g.goal}: ${g.measured}: ${g.pass ?? 'n/a'}`);
    if (rep.profile) console.log(`\n${rep.profile}`);
  }, 900_000);
}

/** `sending` to `rebooting` by the hub's clock (the job's timeline). */
function transferMs(job: Job): number {
  const from = job.timeline?.['sending'];
  const to = job.timeline?.['rebooting'];
  if (from === undefined || to === undefined) {
    throw new Error(`OTA job ${job.id}: no sending/rebooting in its timeline`);
  }
  return to - from;
}
