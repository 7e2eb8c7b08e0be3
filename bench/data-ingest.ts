/**
 * `DB.Store` ingest (PROTOCOL.md 5, issue 9): durable rows per second from N devices, each sending
 * its next `DB.Store` after the reply to the previous one, which the hub sends only after the
 * group commit holding the row is on disk. Goal: >= 50,000 rows/s from 1,000 devices.
 *
 * Run: node --import tsx bench/data-ingest.ts [--devices 1000] [--seconds 10] [--cpu-prof DIR]
 *
 * Processes: this one (orchestration), the hub (`fleetbench serve`), the device worker
 * (data-load-worker.ts). Afterwards the hub is stopped and its account database read back: rows on
 * disk must be at least the rows acknowledged.
 */
import { parseArgs } from 'node:util';
import { cpuShare, cpuTimeMs } from './proc-stats';
import { fmtMs } from './latency';
import { monotonicUs, profileOf } from './cpu-profile-summary';
import { fmtInt, type BenchReport } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';
import { countRows, markdownSection, startDataRig } from './data-bench-common';
import { runFloor } from './data-sqlite-floor';

export const INGEST_GOAL_PER_S = 50_000;

export interface IngestResult {
  devices: number;
  seconds: number;
  rate: number;
  acked: number;
  onDisk: number;
  errors: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
  hubCpu: number;
  workerCpu: number;
  /** Bare SQLite's rows/s for the same devices and seconds, in this process after the hub's run. */
  floor: number;
  profile: string | null;
}

export async function runDataIngest(o: {
  devices: number;
  seconds: number;
  cpuProfDir?: string;
  log: (l: string) => void;
}): Promise<IngestResult> {
  const rig = await startDataRig(o.devices, o);
  let stopped = false;
  try {
    const c = await rig.worker.request(
      {
        type: 'connect',
        url: rig.hub.deviceUrl,
        tokens: rig.devices.map((d) => d.token),
        spoolBytes: 0,
        batch: 50,
      },
      120_000,
    );
    if (c.type !== 'connected') throw new Error(`worker: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 2000)); // session steps of the last ones
    o.log(`ingest: ${c.devices} devices connected`);
    const warmupMs = 1000;
    const hub0 = cpuTimeMs(rig.hub.pid);
    const w0 = cpuTimeMs(rig.worker.child.pid);
    const t0 = performance.now();
    const from = monotonicUs();
    const r = await rig.worker.request(
      { type: 'run', warmupMs, windowMs: o.seconds * 1000 },
      o.seconds * 1000 + 120_000,
    );
    const to = monotonicUs();
    const wall = performance.now() - t0;
    if (r.type !== 'result') throw new Error(`worker: ${JSON.stringify(r)}`);
    const hubCpu = cpuShare(hub0, cpuTimeMs(rig.hub.pid), wall);
    const workerCpu = cpuShare(w0, cpuTimeMs(rig.worker.child.pid), wall);
    // Stop the devices and the hub (cleanly: a CPU profile is written) but keep its data dir.
    await rig.worker.stop();
    await rig.hub.child.stop();
    const onDisk = countRows(rig.hub.dataDir, 'ingest');
    await rig.stop();
    stopped = true;
    o.log('ingest: the bare SQLite floor (data-sqlite-floor.ts)');
    const floor = runFloor(o.devices, o.seconds).rowsPerS;
    return {
      devices: o.devices,
      seconds: o.seconds,
      rate: (r.ok * 1000) / r.windowMs,
      acked: r.ackedTotal,
      onDisk,
      errors: r.errors,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      hubCpu,
      workerCpu,
      floor,
      profile: profileOf(o.cpuProfDir, rig.hub.pid, [{ fromUs: from + warmupMs * 1000, toUs: to }]),
    };
  } finally {
    if (!stopped) await rig.stop();
  }
}

export function ingestReport(r: IngestResult): BenchReport {
  const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
  return {
    title: 'DB.Store ingest (durable rows/s)',
    metrics: [
      ['Devices (one DB.Store in flight each)', String(r.devices)],
      ['Durable rows/s (acknowledged in the window)', fmtInt(r.rate)],
      [
        'Bare SQLite, same rows and commits, no hub (data-sqlite-floor.ts)',
        `${fmtInt(r.floor)} rows/s: the hub reaches ${((r.rate / r.floor) * 100).toFixed(0)}% of it`,
      ],
      ['Reply latency', `p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, max ${fmtMs(r.max)} ms`],
      [
        'CPU of one core',
        `hub ${(r.hubCpu * 100).toFixed(0)}%, devices ${(r.workerCpu * 100).toFixed(0)}%`,
      ],
      ['Errors', String(errs)],
      ['Rows acknowledged / on disk after stop', `${fmtInt(r.acked)} / ${fmtInt(r.onDisk)}`],
    ],
    goals: [
      {
        goal: `>= ${fmtInt(INGEST_GOAL_PER_S)} durable rows/s from 1,000 devices`,
        measured: `${fmtInt(r.rate)}/s, p99 ${fmtMs(r.p99)} ms`,
        pass:
          r.devices >= 1000 && r.seconds >= 5
            ? r.rate >= INGEST_GOAL_PER_S && r.onDisk >= r.acked
            : null,
      },
    ],
    command: `node --import tsx bench/data-ingest.ts --devices ${r.devices} --seconds ${r.seconds}`,
    notes: [
      "Each DB.Store runs the ACL query `INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, 'DEVICE_ID', ?, ?)` with three bound parameters; the reply is sent after the group commit holding the row is flushed (fdatasync).",
      'Hub, device worker and this orchestrator share the same 2 cores.',
      'The floor writes the same rows with SQLite alone, one transaction of one row per device, NORMAL plus fdatasync, right after the hub run: what no hub can beat on this machine with the schema of PROTOCOL.md 5 (its two device_id indexes dirty about two leaf pages per row per commit).',
    ],
    ...(r.profile !== null && { profile: r.profile }),
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      seconds: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const seconds = intFlag(values.seconds, 'seconds', 10, 1);
  runMain(
    async () => {
      const r = await runDataIngest({
        devices: intFlag(values.devices, 'devices', 1000, 1),
        seconds,
        ...(values['cpu-prof'] !== undefined && { cpuProfDir: values['cpu-prof'] }),
        log: (l) => console.log(l),
      });
      console.log(markdownSection(ingestReport(r)));
    },
    300_000 + seconds * 2000,
  );
}
