/**
 * Device shadow updates committed per second (PROTOCOL.md 3), and notification fan-out to 10
 * subscribers (PROTOCOL.md 7). Goals (issue 11): at least 20,000 durable updates/s, 15,000/s with
 * 10 notify subscribers.
 *
 * Run alone: node --import tsx bench/shadow-throughput.ts [--devices 512] [--seconds 10]
 *            [--subscribers 10] [--cpu-prof DIR]
 *
 * Processes: this one (orchestration), the hub, the load worker (shadow-load-worker.ts: bare
 * device sockets sending `Dash.Shadow.Update` with ids and awaiting each reply, which the hub sends
 * only after the group commit), and the fan-out worker (notify-fanout-worker.ts). Phase 1 runs
 * the load with no subscriber; phase 2 runs it again with the subscribers attached. Then the hub
 * is killed with SIGKILL and its registry file is read back: every acknowledged update must be
 * there (the shadow versions went up by at least the number of acknowledgements).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import Type from 'typebox';
import { parseWith } from '../src/main/validate';
import { REGISTRY_FILE } from '../src/main/store/data-dir';
import { startHubProcess, type HubProcess } from './bench-hub';
import { createDevices } from './bench-devices';
import { HubClient } from './http-json';
import { SessionWatch } from './session-watch';
import { WorkerChannel } from './worker-channel';
import { LoadReport, type LoadCommand } from './shadow-load-worker';
import { FanoutReport, type FanoutCommand, type SubscriberStats } from './notify-fanout-worker';
import { cpuShare, cpuTimeMs } from './proc-stats';
import { fmtMs } from './latency';
import { monotonicUs, profileOf, type ProfileWindow } from './cpu-profile-summary';
import { fmtInt, type BenchReport } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';

/**
 * Device sockets sending updates by default. Each device may send 100 frames/s (the hub's
 * per-device rate limit, README), so 256 devices capped the load at about 25,600 updates/s, which
 * a fast run exceeds; the bench would then measure the rate limiter's drops.
 */
export const SHADOW_DEVICES = 512;

export interface ShadowOptions {
  /** Device sockets sending updates. Default SHADOW_DEVICES. */
  devices?: number;
  /** Updates each device keeps in flight. Default 1 (firmware awaits its reply). */
  inflight?: number;
  /** Measured window of each phase. Default 10 s. */
  seconds?: number;
  warmupMs?: number;
  /** Notification subscribers in phase 2. Default 10. */
  subscribers?: number;
  cpuProfDir?: string;
  log?: (line: string) => void;
}

export interface PhaseResult {
  rate: number;
  ok: number;
  ackedTotal: number;
  errors: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
  hubCpuShare: number;
  loadCpuShare: number;
  /** The subscribers' process, phase 2 only. */
  fanoutCpuShare: number | null;
}

export interface ShadowResult {
  devices: number;
  inflight: number;
  seconds: number;
  subscribers: number;
  alone: PhaseResult;
  fanout: PhaseResult;
  /** Per subscriber, phase 2. */
  subs: SubscriberStats[];
  fanoutSpanMs: number;
  /**
   * Shadow versions gained on disk (minus the offline marks of a clean stop) vs updates
   * acknowledged, read after the hub was stopped.
   */
  durable: { acked: number; onDisk: number; hubStop: 'SIGKILL' | 'SIGTERM' };
  profile: string | null;
}

export const SHADOW_GOAL_PER_S = 20_000;
/** With 10 subscribers (issue 11). */
export const SHADOW_FANOUT_GOAL_PER_S = 15_000;

const DeviceVersions = Type.Array(
  Type.Object({ id: Type.String(), shadow: Type.Object({ version: Type.Integer() }) }),
);

const WORKER_DIR = fileURLToPath(new URL('.', import.meta.url));

export async function runShadowThroughput(o: ShadowOptions = {}): Promise<ShadowResult> {
  const devices = o.devices ?? SHADOW_DEVICES;
  const inflight = o.inflight ?? 1;
  const seconds = o.seconds ?? 10;
  const warmupMs = o.warmupMs ?? 1000;
  const subscribers = o.subscribers ?? 10;
  const log = o.log ?? (() => undefined);
  let hub: HubProcess | null = null;
  let client: HubClient | null = null;
  let load: WorkerChannel<LoadCommand, typeof LoadReport> | null = null;
  let fan: WorkerChannel<FanoutCommand, typeof FanoutReport> | null = null;
  const windows: Record<string, ProfileWindow> = {};
  try {
    hub = await startHubProcess({
      ...(o.cpuProfDir !== undefined && { cpuProfDir: o.cpuProfDir }),
      onLine: (l) => log(`  [hub] ${l}`),
    });
    client = new HubClient(hub.http, hub.key, 16);
    const created = await createDevices(client, devices);
    const ids = created.devices.map((d) => d.id);

    load = WorkerChannel.fork<LoadCommand, typeof LoadReport>(
      join(WORKER_DIR, 'shadow-load-worker.ts'),
      'load',
      LoadReport,
    );
    const watch = await SessionWatch.open(hub.ws, hub.key, ids);
    try {
      const c = await load.request(
        { type: 'connect', url: hub.deviceUrl, tokens: created.devices.map((d) => d.token) },
        120_000,
      );
      if (c.type !== 'connected') throw new Error(`load worker: ${JSON.stringify(c)}`);
      await watch.allReady(60_000);
    } finally {
      await watch.close();
    }
    const v0 = await versionsOverApi(client, ids);
    log(`shadow: ${devices} devices connected and through their session steps`);

    const h = hub;
    const l = load;
    const phase = async (name: string, fanoutPid?: number): Promise<PhaseResult> => {
      const hub0 = cpuTimeMs(h.pid);
      const load0 = cpuTimeMs(l.child.pid);
      const fan0 = fanoutPid === undefined ? 0 : cpuTimeMs(fanoutPid);
      const t0 = performance.now();
      const from = monotonicUs();
      const r = await l.request(
        { type: 'run', warmupMs, windowMs: seconds * 1000, inflight },
        seconds * 1000 + warmupMs + 60_000,
      );
      windows[name] = { fromUs: from + warmupMs * 1000, toUs: monotonicUs() };
      const wall = performance.now() - t0;
      if (r.type !== 'result') throw new Error(`load worker: ${JSON.stringify(r)}`);
      const p: PhaseResult = {
        rate: (r.ok * 1000) / r.windowMs,
        ok: r.ok,
        ackedTotal: r.ackedTotal,
        errors: r.errors,
        p50: r.latency.p50,
        p99: r.latency.p99,
        max: r.latency.max,
        hubCpuShare: cpuShare(hub0, cpuTimeMs(h.pid), wall),
        loadCpuShare: cpuShare(load0, cpuTimeMs(l.child.pid), wall),
        fanoutCpuShare: fanoutPid === undefined ? null : cpuShare(fan0, cpuTimeMs(fanoutPid), wall),
      };
      log(`shadow: ${name}: ${fmtInt(p.rate)} committed updates/s`);
      return p;
    };

    // Phase 1: no subscribers.
    const alone = await phase('no subscribers');

    // Phase 2: the same load with N subscribers.
    fan = WorkerChannel.fork<FanoutCommand, typeof FanoutReport>(
      join(WORKER_DIR, 'notify-fanout-worker.ts'),
      'fanout',
      FanoutReport,
    );
    const opened = await fan.request(
      { type: 'open', wsBase: hub.ws, key: hub.key, subscribers },
      60_000,
    );
    if (opened.type !== 'opened') throw new Error(`fan-out worker: ${JSON.stringify(opened)}`);
    await fan.request({ type: 'start' }, 10_000);
    const fanout = await phase(`${subscribers} subscribers`, fan.child.pid);
    await sleep(1000); // let the last notifications arrive
    const stats = await fan.request({ type: 'stop' }, 30_000);
    if (stats.type !== 'stats') throw new Error(`fan-out worker: ${JSON.stringify(stats)}`);

    // Durability: stop the hub the hard way (unless profiling, which needs a clean exit) before
    // the devices disconnect, then read the shadow versions from its registry file. A clean stop
    // marks every device offline first: one more version each.
    const hubStop = o.cpuProfDir === undefined ? 'SIGKILL' : 'SIGTERM';
    if (hubStop === 'SIGKILL') await hub.kill();
    else await hub.child.stop();
    await load.stop();
    load = null;
    await fan.stop();
    fan = null;
    client.close();
    client = null;
    const onDisk = versionsOnDisk(join(hub.dataDir, REGISTRY_FILE), v0);
    return {
      devices,
      inflight,
      seconds,
      subscribers,
      alone,
      fanout,
      subs: stats.subscribers,
      fanoutSpanMs: stats.spanMs,
      durable: {
        acked: alone.ackedTotal + fanout.ackedTotal,
        onDisk: onDisk - (hubStop === 'SIGTERM' ? devices : 0),
        hubStop,
      },
      profile: phaseProfiles(o.cpuProfDir, hub.pid, windows),
    };
  } finally {
    await load?.stop();
    await fan?.stop();
    client?.close();
    await hub?.stop();
  }
}

function phaseProfiles(
  dir: string | undefined,
  pid: number,
  windows: Record<string, ProfileWindow>,
): string | null {
  const parts = Object.entries(windows).flatMap(([name, w]) => {
    const p = profileOf(dir, pid, [w]);
    return p === null ? [] : [`Phase "${name}":\n\n${p}`];
  });
  return parts.length ? parts.join('\n\n') : null;
}

async function versionsOverApi(client: HubClient, ids: string[]): Promise<Map<string, number>> {
  const list = parseWith(DeviceVersions, await client.json('GET', '/api/v2/devices'));
  const wanted = new Set(ids);
  return new Map(list.filter((d) => wanted.has(d.id)).map((d) => [d.id, d.shadow.version]));
}

/** Sum over the devices of (version on disk - version before the phases). */
function versionsOnDisk(file: string, before: Map<string, number>): number {
  const db = new Database(file);
  try {
    const rows = db
      .prepare<[], { id: string; shadow: string }>('SELECT id, shadow FROM devices')
      .all();
    let gained = 0;
    for (const r of rows) {
      const v0 = before.get(r.id);
      if (v0 === undefined) continue;
      const doc = parseWith(
        Type.Object({ version: Type.Integer() }),
        JSON.parse(r.shadow) as unknown,
      );
      gained += doc.version - v0;
    }
    return gained;
  } finally {
    db.close();
  }
}

export function shadowCommand(devices: number, seconds: number, subscribers: number): string {
  return `node --import tsx bench/shadow-throughput.ts --devices ${devices} --seconds ${seconds} --subscribers ${subscribers}`;
}

export function shadowReport(r: ShadowResult): BenchReport {
  const phase = (p: PhaseResult): string =>
    `${fmtInt(p.rate)} updates/s; ack latency p50 ${fmtMs(p.p50)} ms, p99 ${fmtMs(p.p99)} ms, max ${fmtMs(p.max)} ms; ` +
    `CPU of one core: hub ${pct(p.hubCpuShare)}, load ${pct(p.loadCpuShare)}` +
    (p.fanoutCpuShare === null ? '' : `, subscribers ${pct(p.fanoutCpuShare)}`);
  const errs = (p: PhaseResult): string => {
    const n = Object.values(p.errors).reduce((a, b) => a + b, 0);
    return n === 0
      ? '0'
      : `${n} (${Object.entries(p.errors)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')})`;
  };
  const subs = r.subs;
  const spanS = r.fanoutSpanMs / 1000;
  const framesPerS = subs.map((s) => s.frames / spanS);
  const updated = subs.map((s) => s.updated);
  const dropped = subs.filter((s) => s.closedCode !== null).length;
  const lag50 = Math.max(...subs.map((s) => s.lagP50));
  const lag99 = Math.max(...subs.map((s) => s.lagP99));
  const lagMax = Math.max(...subs.map((s) => s.lagMax));
  const complete = updated.every((u) => u === r.fanout.ackedTotal);
  return {
    title: 'Device shadow updates and notification fan-out',
    metrics: [
      ['Devices / updates in flight per device', `${r.devices} / ${r.inflight}`],
      [
        'Update',
        '`Dash.Shadow.Update` with an id, `{"state":{"reported":{"seq":n,"t_ms":now}}}`; each changes the shadow',
      ],
      ['Committed (acknowledged) updates, no subscribers', phase(r.alone)],
      [`Committed updates with ${r.subscribers} \`/api/v2/notify\` subscribers`, phase(r.fanout)],
      [
        'Fan-out cost (rate with subscribers / without)',
        `${((r.fanout.rate / r.alone.rate) * 100).toFixed(0)}%`,
      ],
      [
        'Notifications delivered per subscriber',
        `${fmtInt(Math.min(...framesPerS))}-${fmtInt(Math.max(...framesPerS))}/s (all names), ${fmtInt(framesPerS.reduce((a, b) => a + b, 0))}/s in total`,
      ],
      [
        '`updated` received per subscriber vs updates acknowledged in phase 2',
        `${fmtInt(Math.min(...updated))}-${fmtInt(Math.max(...updated))} of ${fmtInt(r.fanout.ackedTotal)}${complete ? ' (every one)' : ''}`,
      ],
      [
        'Lag from device send to subscriber receipt (worst subscriber)',
        `p50 ${fmtMs(lag50)} ms, p99 ${fmtMs(lag99)} ms, max ${fmtMs(lagMax)} ms`,
      ],
      ['Subscribers dropped as too slow', `${dropped} of ${subs.length}`],
      ['Errors (phase 1 / phase 2)', `${errs(r.alone)} / ${errs(r.fanout)}`],
      [
        `Durability: updates acknowledged vs shadow versions gained on disk after ${r.durable.hubStop}`,
        `${fmtInt(r.durable.acked)} acknowledged, ${fmtInt(r.durable.onDisk)} on disk${r.durable.onDisk === r.durable.acked ? ' (exactly: none lost)' : r.durable.onDisk > r.durable.acked ? ' (none lost)' : ' (LOST UPDATES)'}`,
      ],
    ],
    goals: [
      {
        goal: `at least ${fmtInt(SHADOW_GOAL_PER_S)} durable shadow updates/s`,
        measured: `${fmtInt(r.alone.rate)}/s`,
        pass:
          r.seconds >= 5
            ? r.alone.rate >= SHADOW_GOAL_PER_S && r.durable.onDisk >= r.durable.acked
            : null,
      },
      {
        goal: `at least ${fmtInt(SHADOW_FANOUT_GOAL_PER_S)} durable shadow updates/s with 10 notify subscribers`,
        measured: `${fmtInt(r.fanout.rate)}/s with ${r.subscribers} subscribers`,
        pass:
          r.seconds >= 5 && r.subscribers >= 10
            ? r.fanout.rate >= SHADOW_FANOUT_GOAL_PER_S && r.durable.onDisk >= r.durable.acked
            : null,
      },
      {
        goal: `fan-out to ${r.subscribers} subscribers: every update delivered to each, none dropped`,
        measured: `${dropped} dropped; ${complete ? 'all' : 'not all'} \`updated\` delivered; lag p99 ${fmtMs(lag99)} ms`,
        pass: r.seconds >= 5 ? dropped === 0 && complete : null,
      },
    ],
    ...(r.profile !== null && { profile: r.profile }),
    command: shadowCommand(r.devices, r.seconds, r.subscribers),
    notes: [
      'The hub answers a `Dash.Shadow.Update` only after the group commit that holds it is on disk (SQLite WAL, flushed with fdatasync before the reply), so each acknowledgement is a durable update; the rate counts updates sent in the measured window and acknowledged.',
      'The durability row re-reads the registry file after the hub was killed: versions on disk must have gone up by at least the number of acknowledged updates.',
      'Each update makes the hub publish `rpc.out.Dash.Shadow.Update` and `updated` (the whole device object), so a subscriber receives two frames per update.',
      'Lag is measured with wall clocks of two processes on the same machine (millisecond resolution).',
    ],
  };
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      inflight: { type: 'string' },
      seconds: { type: 'string' },
      subscribers: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const seconds = intFlag(values.seconds, 'seconds', 10, 1);
  runMain(
    async () => {
      const r = await runShadowThroughput({
        devices: intFlag(values.devices, 'devices', SHADOW_DEVICES, 1),
        inflight: intFlag(values.inflight, 'inflight', 1, 1),
        seconds,
        subscribers: intFlag(values.subscribers, 'subscribers', 10, 1),
        ...(values['cpu-prof'] !== undefined && { cpuProfDir: values['cpu-prof'] }),
        log: (l) => console.log(l),
      });
      const rep = shadowReport(r);
      for (const [k, v] of rep.metrics) console.log(`${k}: ${v}`);
      for (const g of rep.goals) console.log(`goal: ${g.goal}: ${g.measured}: ${g.pass ?? 'n/a'}`);
      if (rep.profile) console.log(`\n${rep.profile}`);
    },
    300_000 + seconds * 2000,
  );
}
