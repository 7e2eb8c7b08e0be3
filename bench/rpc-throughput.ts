/**
 * REST RPC round trips through the hub to simulated devices (PROTOCOL.md 4 `POST
 * /devices/:id/rpc/:method`): calls per second and p50/p99 latency with 64 concurrent keep-alive
 * clients, against a baseline measured in this same process: the same JSON-RPC frames sent by 64
 * callers straight to the same kind of simulated devices over bare `ws` connections
 * (bare-device-server.ts). Goal (issue): at least 5,000 calls/s through the hub.
 *
 * Run alone: node --import tsx bench/rpc-throughput.ts [--seconds 10] [--rounds 2] [--cpu-prof DIR]
 *
 * Processes: this one (HTTP clients, bare server), the hub, and two `fleetbench sim` processes
 * with the same passwords (one connected to the hub, one to the bare server). Baseline and hub
 * rounds alternate so that drifting background load hits both alike.
 */
import { parseArgs } from 'node:util';
import type { SimProcess } from './bench-sim';
import { hubStatus } from './hub-status';
import { startRpcHub, type RpcHub } from './rpc-bench-setup';
import { BareDeviceServer } from './bare-device-server';
import { mergeLoops, rate, runClosedLoop, type LoopResult } from './closed-loop';
import { cpuShare, cpuTimeMs } from './proc-stats';
import { makeTempDir } from './temp-dir';
import { fmtMs } from './latency';
import { monotonicUs, profileOf, type ProfileWindow } from './cpu-profile-summary';
import { fmtInt, type BenchReport } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';

export interface RpcOptions {
  /** Simulated devices; callers spread over them. Default 64. */
  devices?: number;
  /** Concurrent callers. Default 64. */
  clients?: number;
  /** Measured window per round. Default 10 s. */
  seconds?: number;
  /** Rounds of each kind (baseline, hub, baseline, hub, ...). Default 2. */
  rounds?: number;
  warmupMs?: number;
  /** The device method called. Default Sys.GetInfo (answered by every device). */
  method?: string;
  cpuProfDir?: string;
  log?: (line: string) => void;
}

export interface RpcSide {
  rate: number;
  ok: number;
  errors: Record<string, number>;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Per-round rates, to show the spread. */
  roundRates: number[];
}

export interface RpcResult {
  devices: number;
  clients: number;
  seconds: number;
  rounds: number;
  method: string;
  hub: RpcSide;
  baseline: RpcSide;
  hubCpuShare: number;
  simCpuShare: number;
  benchCpuShare: number;
  /** Frames the hub sent to devices during the hub rounds (its own count). */
  hubFramesOut: number;
  profile: string | null;
}

export const RPC_GOAL_CALLS_PER_S = 5000;

export async function runRpcThroughput(o: RpcOptions = {}): Promise<RpcResult> {
  const devices = o.devices ?? 64;
  const clients = o.clients ?? 64;
  const seconds = o.seconds ?? 10;
  const rounds = o.rounds ?? 2;
  const warmupMs = o.warmupMs ?? 1000;
  const method = o.method ?? 'Sys.GetInfo';
  const log = o.log ?? (() => undefined);
  const tmp = makeTempDir('fb-bench-rpc-');
  let setup: RpcHub | null = null;
  let simBare: SimProcess | null = null;
  let bare: BareDeviceServer | null = null;
  const windows: ProfileWindow[] = [];
  let result: RpcResult;
  try {
    setup = await startRpcHub({
      devices,
      clients,
      maxSeconds: seconds * rounds * 2 + 300,
      ...(o.cpuProfDir !== undefined && { cpuProfDir: o.cpuProfDir }),
      tmp,
      log,
    });
    const { hub, client, ids } = setup;
    // Devices on the hub, all through their session steps before anything is measured.
    const simHub = await setup.connectToHub(60_000);
    // The same devices (same passwords) once more, on the bare server.
    bare = await BareDeviceServer.listen();
    simBare = setup.startBaselineSim(bare.url, 'sim-bare');
    await bare.waitForSessions(devices, 60_000);
    log(`rpc: ${devices} devices on the hub and on the bare server; ${clients} callers`);

    const http = client;
    const b = bare;
    const src = (k: number): string => `$sys/${ids[k % devices] ?? ''}`;
    const hubCall = async (k: number): Promise<string | null> => {
      const r = await http.send('POST', `/api/v2/devices/${ids[k % devices]}/rpc/${method}`, {});
      return r.status === 200 ? null : `HTTP ${r.status}`;
    };
    const bareCall = (k: number): Promise<string | null> => {
      const s = b.sessions[k % devices];
      return s ? s.call(method, {}, src(k), 30_000) : Promise.resolve('no session');
    };

    const hubRounds: LoopResult[] = [];
    const bareRounds: LoopResult[] = [];
    let hubCpuMs = 0;
    let simCpuMs = 0;
    let benchCpuMs = 0;
    let hubWallMs = 0;
    const framesBefore = (await hubStatus(client)).frames.framesOut;
    for (let r = 0; r < rounds; r++) {
      bareRounds.push(await runClosedLoop(clients, warmupMs, seconds * 1000, bareCall));
      log(`rpc: baseline round ${r + 1}: ${fmtInt(rate(bareRounds.at(-1) as LoopResult))} calls/s`);
      const h0 = cpuTimeMs(hub.pid);
      const s0 = cpuTimeMs(simHub.child.pid);
      const b0 = process.cpuUsage();
      const from = monotonicUs();
      const hr = await runClosedLoop(clients, warmupMs, seconds * 1000, hubCall);
      windows.push({ fromUs: from + warmupMs * 1000, toUs: monotonicUs() });
      hubCpuMs += cpuTimeMs(hub.pid) - h0;
      simCpuMs += cpuTimeMs(simHub.child.pid) - s0;
      const bu = process.cpuUsage(b0);
      benchCpuMs += (bu.user + bu.system) / 1000;
      hubWallMs += hr.windowEnd - hr.windowStart + warmupMs;
      hubRounds.push(hr);
      log(`rpc: hub round ${r + 1}: ${fmtInt(rate(hr))} calls/s`);
    }
    const framesAfter = (await hubStatus(client)).frames.framesOut;
    result = {
      devices,
      clients,
      seconds,
      rounds,
      method,
      hub: side(hubRounds),
      baseline: side(bareRounds),
      hubCpuShare: cpuShare(0, hubCpuMs, hubWallMs),
      simCpuShare: cpuShare(0, simCpuMs, hubWallMs),
      benchCpuShare: cpuShare(0, benchCpuMs, hubWallMs),
      hubFramesOut: framesAfter - framesBefore,
      profile: null,
    };
  } finally {
    await simBare?.stop();
    await bare?.close();
    await setup?.close();
    tmp.remove();
  }
  if (setup !== null) result.profile = profileOf(o.cpuProfDir, setup.hub.pid, windows);
  return result;
}

function side(rounds: LoopResult[]): RpcSide {
  const all = mergeLoops(rounds);
  const s = all.latency.summary();
  return {
    rate: rate(all),
    ok: all.ok,
    errors: all.errors,
    p50: s.p50,
    p90: s.p90,
    p99: s.p99,
    max: s.max,
    roundRates: rounds.map(rate),
  };
}

export function rpcCommand(seconds: number, rounds: number): string {
  return `node --import tsx bench/rpc-throughput.ts --seconds ${seconds} --rounds ${rounds}`;
}

export function rpcReport(r: RpcResult): BenchReport {
  const line = (s: RpcSide): string =>
    `${fmtInt(s.rate)} calls/s (rounds: ${s.roundRates.map(fmtInt).join(', ')}); p50 ${fmtMs(s.p50)} ms, p90 ${fmtMs(s.p90)} ms, p99 ${fmtMs(s.p99)} ms, max ${fmtMs(s.max)} ms`;
  const errs = (s: RpcSide): string => {
    const n = Object.values(s.errors).reduce((a, b) => a + b, 0);
    return n === 0
      ? '0'
      : `${n} (${Object.entries(s.errors)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')})`;
  };
  return {
    title: `REST RPC through the hub, ${r.clients} concurrent clients`,
    metrics: [
      ['Method', `\`POST /api/v2/devices/:id/rpc/${r.method}\` with body \`{}\``],
      ['Devices / concurrent callers', `${r.devices} / ${r.clients}`],
      [
        'Measured',
        `${r.rounds} rounds x ${r.seconds} s per side (after 1 s warm-up each), alternating`,
      ],
      ['Through the hub (REST -> hub -> device WebSocket)', line(r.hub)],
      ['Baseline (bare `ws`, same frames, same simulated devices)', line(r.baseline)],
      ['Hub / baseline throughput', `${((r.hub.rate / r.baseline.rate) * 100).toFixed(0)}%`],
      ['Hub / baseline p50 latency', `${(r.hub.p50 / r.baseline.p50).toFixed(2)}x`],
      ['Errors (hub / baseline)', `${errs(r.hub)} / ${errs(r.baseline)}`],
      ['Calls the hub sent to devices (its frame counter, incl. warm-up)', fmtInt(r.hubFramesOut)],
      [
        'CPU during hub rounds: hub / load generator (sim) / HTTP clients',
        `${pct(r.hubCpuShare)} / ${pct(r.simCpuShare)} / ${pct(r.benchCpuShare)} of one core`,
      ],
    ],
    goals: [
      {
        goal: `at least ${fmtInt(RPC_GOAL_CALLS_PER_S)} calls/s through the hub (64 clients)`,
        measured: `${fmtInt(r.hub.rate)} calls/s (${((r.hub.rate / r.baseline.rate) * 100).toFixed(0)}% of bare ws)`,
        pass: r.seconds >= 5 ? r.hub.rate >= RPC_GOAL_CALLS_PER_S : null,
      },
    ],
    ...(r.profile !== null && { profile: r.profile }),
    command: rpcCommand(r.seconds, r.rounds),
    notes: [
      'Clients: `node:http` with a keep-alive agent (64 sockets), each caller sending its next call when the previous one is answered; a call counts if it started in the measured window.',
      'Baseline: this process runs a bare `ws` server in the hub\'s place; a second `fleetbench sim` with the same passwords connects to it, and 64 callers send `{"id","method","params":{},"src"}` frames and await the replies. It has no HTTP, auth, store or notifications: it is the floor, not a competitor.',
      "All of this (hub, 2 sims, clients) shares the machine's cores, so the hub gets less than a whole machine; the CPU shares above show who used what.",
    ],
  };
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      clients: { type: 'string' },
      devices: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const seconds = intFlag(values.seconds, 'seconds', 10, 1);
  const rounds = intFlag(values.rounds, 'rounds', 2, 1);
  runMain(
    async () => {
      const r = await runRpcThroughput({
        seconds,
        rounds,
        clients: intFlag(values.clients, 'clients', 64, 1),
        devices: intFlag(values.devices, 'devices', 64, 1),
        ...(values['cpu-prof'] !== undefined && { cpuProfDir: values['cpu-prof'] }),
        log: (l) => console.log(l),
      });
      const rep = rpcReport(r);
      for (const [k, v] of rep.metrics) console.log(`${k}: ${v}`);
      for (const g of rep.goals) console.log(`goal: ${g.goal}: ${g.measured}: ${g.pass ?? 'n/a'}`);
      if (rep.profile) console.log(`\n${rep.profile}`);
    },
    300_000 + seconds * rounds * 2 * 1000,
  );
}
