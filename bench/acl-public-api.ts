/**
 * The device public API under load (issue 10):
 *  (a) `GET /api/v2/m/device` by device public key, the shadow filtered by the device's ACL, at
 *      10,000 registered devices (offline: reads need no session), against the management
 *      `GET /api/v2/devices/:id` in the same run, rounds interleaved (goal: >= 0.7x);
 *  (b) 1,000 customer notify streams (`/api/v2/m/device/notify`, each on its own device, ACL
 *      filtered) while those 1,000 devices send `Dash.Shadow.Update` back to back
 *      (bench/shadow-load-worker.ts): delivery latency of the `updated` notifications, from the
 *      device's send time (`t_ms` in the update, readable by the ACL) to the stream.
 *
 * Run alone: node --import tsx bench/acl-public-api.ts [--devices 10000] [--streams 1000]
 *   [--seconds 5] [--concurrency 32] [--cpu-prof DIR]
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startHubProcess, type HubProcess } from './bench-hub';
import { createDevices, type CreatedDevice } from './bench-devices';
import { HubClient } from './http-json';
import { errorCount, mergeLoops, rate, runClosedLoop, type LoopResult } from './closed-loop';
import { fmtMs, LatencyRecorder, type LatencySummary } from './latency';
import { cpuTimeMs } from './proc-stats';
import { fmtInt } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';
import { machineInfo } from './machine-info';
import { WorkerChannel } from './worker-channel';
import { LoadReport, type LoadCommand } from './shadow-load-worker';
import { SessionWatch } from './session-watch';

export const READ_RATIO_GOAL = 0.7;
const WORKER_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface AclBenchOptions {
  devices?: number;
  streams?: number;
  seconds?: number;
  concurrency?: number;
  cpuProfDir?: string;
  log?: (line: string) => void;
}

export interface AclBenchResult {
  devices: number;
  management: { rate: number; p50: number; p99: number; errors: number };
  public: { rate: number; p50: number; p99: number; errors: number };
  readHubCpuShare: number;
  streams: number;
  updatesPerS: number;
  delivered: number;
  expected: number;
  delivery: LatencySummary;
  streamHubCpuShare: number;
}

/** Device `i`'s public key: a raw `+` and `/` in it, as real base64 keys have. */
const publicKey = (i: number): string => `pk+${i}/Kq7Tw`;

/** A realistic shadow: some leaves readable, some not. */
function deviceBody(i: number): unknown {
  return {
    acl: {
      public_key: publicKey(i),
      shadow_read: ['^.state.reported.(on|level|seq|t_ms|temp)$', '^.state.desired.'],
      shadow_write: '^.state.desired.(on|level)$',
      rpc: 'GPIO.*, Sys.Reboot',
    },
    shadow: {
      state: {
        desired: { on: true, level: 3 },
        reported: {
          on: false,
          level: 2,
          temp: 21.5,
          seq: 0,
          t_ms: 0,
          wifi: { ssid: 'home', rssi: -61, ip: '192.168.1.20' },
          config: { interval: 10, mode: 'auto', name: `device ${i}` },
          secret: 'not for customers',
        },
      },
    },
  };
}

/** GETs with a per-request key in `?access_token=`, as a customer's browser app sends it. */
class PublicClient {
  readonly agent: Agent;
  constructor(
    private readonly host: string,
    private readonly port: number,
    sockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }
  get(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.host, port: this.port, method: 'GET', path, agent: this.agent },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
}

async function setUp(client: HubClient, devices: readonly CreatedDevice[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < devices.length) {
      const i = next++;
      const d = devices[i];
      if (d) await client.json('POST', `/api/v2/devices/${d.id}`, deviceBody(i));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

const cpuShare = (c0: number, c1: number, wallMs: number): number =>
  wallMs > 0 ? (c1 - c0) / wallMs : 0;

export async function runAclBench(o: AclBenchOptions = {}): Promise<AclBenchResult> {
  const count = o.devices ?? 10_000;
  const streams = Math.min(o.streams ?? 1000, count);
  const seconds = o.seconds ?? 5;
  const concurrency = o.concurrency ?? 32;
  const log = o.log ?? (() => undefined);
  let hub: HubProcess | null = null;
  let client: HubClient | null = null;
  let load: WorkerChannel<LoadCommand, typeof LoadReport> | null = null;
  const sockets: WebSocket[] = [];
  try {
    hub = await startHubProcess({
      ...(o.cpuProfDir !== undefined && { cpuProfDir: o.cpuProfDir }),
      onLine: (l) => log(`  [hub] ${l}`),
    });
    client = new HubClient(hub.http, hub.key, concurrency);
    const t0 = performance.now();
    const { devices } = await createDevices(client, count);
    await setUp(client, devices);
    log(`acl: ${count} devices with ACLs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // (a) reads, management and public rounds interleaved so both see the same machine.
    const u = new URL(hub.http);
    const pub = new PublicClient(u.hostname, Number(u.port), concurrency);
    const mc = client;
    const pick = (): number => Math.floor(Math.random() * count);
    const mgmtCall = async (): Promise<string | null> => {
      const r = await mc.send('GET', `/api/v2/devices/${devices[pick()]?.id ?? ''}`);
      return r.status === 200 ? null : `HTTP ${r.status}`;
    };
    const pubCall = async (): Promise<string | null> => {
      const status = await pub.get(`/api/v2/m/device?access_token=${publicKey(pick())}`);
      return status === 200 ? null : `HTTP ${status}`;
    };
    const mgmt: LoopResult[] = [];
    const pubs: LoopResult[] = [];
    const h = hub;
    let pubCpu = 0;
    let pubWall = 0;
    for (let round = 0; round < 2; round++) {
      mgmt.push(await runClosedLoop(concurrency, 1000, seconds * 1000, mgmtCall));
      const c0 = cpuTimeMs(h.pid);
      const w0 = performance.now();
      pubs.push(await runClosedLoop(concurrency, 1000, seconds * 1000, pubCall));
      pubCpu += cpuTimeMs(h.pid) - c0;
      pubWall += performance.now() - w0;
    }
    pub.agent.destroy();
    const m = mergeLoops(mgmt);
    const p = mergeLoops(pubs);
    const ms = m.latency.summary();
    const ps = p.latency.summary();
    log(`acl: management ${fmtInt(rate(m))}/s, public ${fmtInt(rate(p))}/s`);

    // (b) streams: one per device on the first `streams` devices, which then update their shadows.
    const delivery = new LatencyRecorder();
    let delivered = 0;
    let measuring = false;
    const T_MS = /"t_ms":(\d+)/;
    for (let i = 0; i < streams; i += 100) {
      const batch = Array.from({ length: Math.min(100, streams - i) }, (_, k) => {
        const ws = new WebSocket(
          `${h.ws}/api/v2/m/device/notify?access_token=${publicKey(i + k)}`,
          { perMessageDeflate: false },
        );
        ws.on('message', (data) => {
          if (!measuring) return;
          const text = data.toString();
          if (!text.startsWith('{"name":"updated"')) return;
          const t = T_MS.exec(text)?.[1];
          if (t === undefined || t === '0') return;
          delivered++;
          delivery.add(Date.now() - Number(t));
        });
        sockets.push(ws);
        return new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
      });
      await Promise.all(batch);
    }
    log(`acl: ${streams} notify streams open`);

    load = WorkerChannel.fork<LoadCommand, typeof LoadReport>(
      join(WORKER_DIR, 'shadow-load-worker.ts'),
      'load',
      LoadReport,
    );
    const ids = devices.slice(0, streams).map((d) => d.id);
    const watch = await SessionWatch.open(h.ws, h.key, ids);
    try {
      const c = await load.request(
        {
          type: 'connect',
          url: h.deviceUrl,
          tokens: devices.slice(0, streams).map((d) => d.token),
        },
        120_000,
      );
      if (c.type !== 'connected') throw new Error(`load worker: ${JSON.stringify(c)}`);
      await watch.allReady(60_000);
    } finally {
      await watch.close();
    }
    const c0 = cpuTimeMs(h.pid);
    const w0 = performance.now();
    measuring = true;
    const r = await load.request(
      { type: 'run', warmupMs: 1000, windowMs: seconds * 2000, inflight: 1 },
      seconds * 2000 + 60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the last ones in flight
    measuring = false;
    const streamCpu = cpuShare(c0, cpuTimeMs(h.pid), performance.now() - w0);
    if (r.type !== 'result') throw new Error(`load worker: ${JSON.stringify(r)}`);
    return {
      devices: count,
      management: { rate: rate(m), p50: ms.p50, p99: ms.p99, errors: errorCount(m) },
      public: { rate: rate(p), p50: ps.p50, p99: ps.p99, errors: errorCount(p) },
      readHubCpuShare: pubWall > 0 ? pubCpu / pubWall : 0,
      streams,
      updatesPerS: (r.ok * 1000) / r.windowMs,
      delivered,
      expected: r.ackedTotal,
      delivery: delivery.summary(),
      streamHubCpuShare: streamCpu,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await load?.stop();
    client?.close();
    await hub?.stop();
  }
}

function printResult(r: AclBenchResult, command: string): void {
  const info = machineInfo();
  const ratio = r.public.rate / r.management.rate;
  console.log(`### Device public API, ${fmtInt(r.devices)} devices (${info.date})

Machine: ${info.cpuModel}, ${info.cores} cores, ${info.ramGiB} GiB, Node ${info.node}, load ${info.loadAtStart.toFixed(1)} at start; ${info.commit}${info.dirty ? ' + working tree' : ''}.
Command: \`${command}\`

| metric | value |
| --- | --- |
| management \`GET /api/v2/devices/:id\` | ${fmtInt(r.management.rate)}/s, p50 ${fmtMs(r.management.p50)} ms, p99 ${fmtMs(r.management.p99)} ms, errors ${r.management.errors} |
| public \`GET /api/v2/m/device\` (ACL filtered) | ${fmtInt(r.public.rate)}/s, p50 ${fmtMs(r.public.p50)} ms, p99 ${fmtMs(r.public.p99)} ms, errors ${r.public.errors} |
| hub CPU during public reads | ${Math.round(r.readHubCpuShare * 100)}% of one core |
| ${r.streams} notify streams: device updates | ${fmtInt(r.updatesPerS)}/s acknowledged |
| \`updated\` delivered / updates acknowledged | ${fmtInt(r.delivered)} / ${fmtInt(r.expected)} |
| delivery latency (device send -> stream) | p50 ${fmtMs(r.delivery.p50)} ms, p99 ${fmtMs(r.delivery.p99)} ms, max ${fmtMs(r.delivery.max)} ms |
| hub CPU during the stream phase | ${Math.round(r.streamHubCpuShare * 100)}% of one core |

| goal | measured | result |
| --- | --- | --- |
| public reads >= ${READ_RATIO_GOAL}x management reads | ${ratio.toFixed(2)}x | ${ratio >= READ_RATIO_GOAL ? 'pass' : 'FAIL'} |
`);
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      streams: { type: 'string' },
      seconds: { type: 'string' },
      concurrency: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const o: AclBenchOptions = {
    devices: intFlag(values.devices, 'devices', 10_000, 1),
    streams: intFlag(values.streams, 'streams', 1000, 1),
    seconds: intFlag(values.seconds, 'seconds', 5, 1),
    concurrency: intFlag(values.concurrency, 'concurrency', 32, 1),
    ...(values['cpu-prof'] !== undefined && { cpuProfDir: values['cpu-prof'] }),
    log: (l) => console.error(l),
  };
  const command =
    `node --import tsx bench/acl-public-api.ts ${process.argv.slice(2).join(' ')}`.trim();
  runMain(async () => printResult(await runAclBench(o), command), 15 * 60_000);
}
