/**
 * Issue 11: REST RPC through the hub side by side with a minimal HTTP-to-WebSocket relay
 * (minimal-relay.ts, its own process), with the same load generator: `fleetbench sim` processes
 * with the same device passwords (one connected to the hub, one to the relay) and 64 closed-loop
 * keep-alive HTTP callers in this process, each call to the next device in turn
 * (`GET .../devices/:id/rpc/Sys.GetInfo`). Relay and hub rounds alternate, so drifting
 * background load hits both alike; besides the ratio of the merged rates, the median of the
 * per-round ratios (hub round r / relay round r, taken seconds apart) is reported: this VM's speed
 * drifts by up to 30% from one minute to the next, and a ratio of rounds run side by side is the
 * steadier figure. Goals: hub >= 0.8x the relay's calls/s, hub p99 <= 20 ms at 10k devices.
 *
 * `--paced RATE[,RATE]` adds an open-loop phase (paced-loop.ts): calls due at each fixed rate on the
 * same 64 sockets, relay and hub rounds alternating again, latency timed from when each call was
 * due. The closed loop's latency is only 64 callers over the rate (Little's law) and says nothing
 * of what the hub adds; the paced phase shows it below saturation.
 *
 * The callers use raw-http-client.ts (one keep-alive socket each, a fraction of `node:http`'s CPU per
 * call); `--client node` gives the `node:http` client of the earlier runs in bench/RESULTS.md.
 *
 * Run: node --import tsx bench/rpc-vs-relay.ts [--devices 2000,10000] [--seconds 10] [--rounds 2]
 *      [--client raw|node] [--paced 1000,2500]
 *      [--cpu-prof DIR]   (profiles the hub; the summary covers the hub rounds only)
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { SimProcess } from './bench-sim';
import { HubClient } from './http-json';
import { RawHttpPool } from './raw-http-client';
import {
  errorCount,
  mergeLoops,
  rate,
  runClosedLoop,
  type CallFn,
  type LoopResult,
} from './closed-loop';
import { runPacedLoop, type PacedResult } from './paced-loop';
import { cpuTimes, readMemory, type CpuTimes } from './proc-stats';
import { makeTempDir } from './temp-dir';
import { fmtMs } from './latency';
import { monotonicUs, profileOf, type ProfileWindow } from './cpu-profile-summary';
import { fmtInt, median } from './bench-report';
import { currentLoad } from './machine-info';
import { intFlag, isMain, runMain } from './bench-main';
import { startRpcHub, type RpcHub } from './rpc-bench-setup';
import { startRelayProcess, waitRelayOnline, type RelayProcess } from './relay-process';

export interface SideResult {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  roundRates: number[];
  cpuMs: number;
  /** CPU per finished call (warm-up included), microseconds: where each side spends the machine. */
  perCall: CallCpu;
  rssKiB: number;
}

/** Microseconds of CPU per call: the server's user and system time, its sim's, the callers'. */
export interface CallCpu {
  serverUser: number;
  serverSys: number;
  sim: number;
  callers: number;
}

/** CPU used so far by a server, the sim answering for it, and this process (the callers). */
interface CpuSpent {
  server: CpuTimes;
  simMs: number;
  callersMs: number;
}

export interface RelayRunResult {
  devices: number;
  hub: SideResult;
  relay: SideResult;
  profile: string | null;
  load: number;
  /** Hub round r / relay round r. */
  roundRatios: number[];
  /** The open-loop phase, one entry per rate asked for. */
  paced: PacedPair[];
}

/** Hub and relay at one paced rate, their rounds merged. */
export interface PacedPair {
  rate: number;
  hub: PacedSide;
  relay: PacedSide;
}

export interface PacedSide {
  /** Answered calls per second of window (the rate asked for, if the side kept up). */
  achieved: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** Calls that waited for a free socket: the side fell behind the rate. */
  queued: number;
}

const CLIENTS = 64;

export async function runRpcVsRelay(
  devices: number,
  seconds: number,
  rounds: number,
  cpuProfDir: string | undefined,
  log: (l: string) => void,
  client: 'raw' | 'node' = 'raw',
  pacedRates: readonly number[] = [],
): Promise<RelayRunResult> {
  const tmp = makeTempDir('fb-bench-relay-');
  let setup: RpcHub | null = null;
  let relay: RelayProcess | null = null;
  let relayClient: HubClient | null = null;
  const pools: RawHttpPool[] = [];
  let simRelay: SimProcess | null = null;
  const windows: ProfileWindow[] = [];
  let result: RelayRunResult;
  try {
    setup = await startRpcHub({
      devices,
      clients: CLIENTS,
      createConcurrency: 32,
      maxSeconds: seconds * rounds * 2 + 600,
      ...(cpuProfDir !== undefined && { cpuProfDir }),
      tmp,
      log,
    });
    const { hub, created, ids } = setup;
    log(`${devices} devices created in ${fmtInt(created.ms)} ms`);
    const idFile = tmp.file('ids.txt');
    writeFileSync(idFile, created.devices.map((d) => `${d.id} ${d.token}`).join('\n') + '\n');

    relay = await startRelayProcess({ devicesFile: idFile, startTimeoutMs: 30_000 });
    relayClient = new HubClient(relay.http, 'unused', CLIENTS);

    const simHub = await setup.connectToHub(300_000, true);
    simRelay = setup.startBaselineSim(relay.deviceUrl, 'sim-relay');
    await waitRelayOnline(relay.http, devices, 300_000, 250);
    log(`${devices} devices on the hub and on the relay; ${CLIENTS} callers`);

    let next = 0;
    const hc = setup.client;
    const rc = relayClient;
    const hubRaw = new RawHttpPool(hub.http, hub.key, CLIENTS);
    const relayRaw = new RawHttpPool(relay.http, null, CLIENTS);
    pools.push(hubRaw, relayRaw);
    const hubPath = (): string => `/api/v2/devices/${ids[next++ % devices] ?? ''}/rpc/Sys.GetInfo`;
    const relayPath = (): string => `/devices/${ids[next++ % devices] ?? ''}/rpc/Sys.GetInfo`;
    const status = (code: number): string | null => (code === 200 ? null : `HTTP ${code}`);
    const hubCall =
      client === 'raw'
        ? async (k: number) => status((await hubRaw.get(k, hubPath())).status)
        : async () => status((await hc.send('GET', hubPath())).status);
    const relayCall =
      client === 'raw'
        ? async (k: number) => status((await relayRaw.get(k, relayPath())).status)
        : async () => status((await rc.send('GET', relayPath())).status);
    const hubRounds: LoopResult[] = [];
    const relayRounds: LoopResult[] = [];
    const relayPid = relay.child.pid;
    const hubSpent = new SpentCpu(hub.pid, simHub.child.pid);
    const relaySpent = new SpentCpu(relayPid, simRelay.child.pid);
    for (let r = 0; r < rounds; r++) {
      relayRounds.push(
        await relaySpent.measure(() =>
          runClosedLoop(CLIENTS, 1000, seconds * 1000, relaySpent.counted(relayCall)),
        ),
      );
      log(`relay round ${r + 1}: ${fmtInt(rate(relayRounds.at(-1) as LoopResult))} calls/s`);
      const from = monotonicUs();
      hubRounds.push(
        await hubSpent.measure(() =>
          runClosedLoop(CLIENTS, 1000, seconds * 1000, hubSpent.counted(hubCall)),
        ),
      );
      windows.push({ fromUs: from + 1_000_000, toUs: monotonicUs() });
      log(`hub round ${r + 1}: ${fmtInt(rate(hubRounds.at(-1) as LoopResult))} calls/s`);
    }
    const paced: PacedPair[] = [];
    for (const pr of pacedRates) {
      const hubP: PacedResult[] = [];
      const relayP: PacedResult[] = [];
      for (let r = 0; r < rounds; r++) {
        relayP.push(await runPacedLoop(pr, CLIENTS, 1000, seconds * 1000, relayCall));
        hubP.push(await runPacedLoop(pr, CLIENTS, 1000, seconds * 1000, hubCall));
      }
      paced.push({ rate: pr, hub: pacedSide(hubP), relay: pacedSide(relayP) });
      log(`paced ${fmtInt(pr)}/s: ${pacedLine(paced.at(-1) as PacedPair)}`);
    }
    result = {
      devices,
      hub: side(hubRounds, hubSpent, readMemory(hub.pid).rssKb),
      relay: side(relayRounds, relaySpent, readMemory(relayPid).rssKb),
      profile: null,
      load: currentLoad(),
      roundRatios: hubRounds.map((h, i) => rate(h) / rate(relayRounds[i] as LoopResult)),
      paced,
    };
  } finally {
    for (const p of pools) p.close();
    relayClient?.close();
    await simRelay?.stop();
    await relay?.child.stop(5000);
    await setup?.close();
    tmp.remove();
  }
  if (setup !== null) result.profile = profileOf(cpuProfDir, setup.hub.pid, windows);
  return result;
}

/** What one side's rounds cost the machine, summed over its rounds; calls counted as they finish. */
class SpentCpu {
  private calls = 0;
  private readonly sum: CpuSpent = { server: { userMs: 0, sysMs: 0 }, simMs: 0, callersMs: 0 };

  constructor(
    private readonly serverPid: number,
    private readonly simPid: number,
  ) {}

  counted(call: CallFn): CallFn {
    return async (k) => {
      const r = await call(k);
      this.calls++;
      return r;
    };
  }

  async measure<T>(run: () => Promise<T>): Promise<T> {
    const before = this.read();
    const result = await run();
    const after = this.read();
    this.sum.server.userMs += after.server.userMs - before.server.userMs;
    this.sum.server.sysMs += after.server.sysMs - before.server.sysMs;
    this.sum.simMs += after.simMs - before.simMs;
    this.sum.callersMs += after.callersMs - before.callersMs;
    return result;
  }

  get serverMs(): number {
    return this.sum.server.userMs + this.sum.server.sysMs;
  }

  perCall(): CallCpu {
    const us = (ms: number): number => (this.calls > 0 ? (ms * 1000) / this.calls : 0);
    return {
      serverUser: us(this.sum.server.userMs),
      serverSys: us(this.sum.server.sysMs),
      sim: us(this.sum.simMs),
      callers: us(this.sum.callersMs),
    };
  }

  private read(): CpuSpent {
    const sim = cpuTimes(this.simPid);
    const self = process.cpuUsage();
    return {
      server: cpuTimes(this.serverPid),
      simMs: sim.userMs + sim.sysMs,
      callersMs: (self.user + self.system) / 1000,
    };
  }
}

/** Rate, latency and errors of one side's rounds, merged. */
function merged(rounds: LoopResult[]): Pick<PacedSide, 'p50' | 'p99' | 'max' | 'errors'> & {
  rate: number;
} {
  const all = mergeLoops(rounds);
  const s = all.latency.summary();
  return { rate: rate(all), p50: s.p50, p99: s.p99, max: s.max, errors: errorCount(all) };
}

function side(rounds: LoopResult[], spent: SpentCpu, rssKiB: number): SideResult {
  const { rate: r, p50, p99, errors } = merged(rounds);
  return {
    rate: r,
    p50,
    p99,
    errors,
    roundRates: rounds.map(rate),
    cpuMs: spent.serverMs,
    perCall: spent.perCall(),
    rssKiB,
  };
}

function pacedSide(rounds: PacedResult[]): PacedSide {
  const { rate: achieved, ...latency } = merged(rounds);
  return { achieved, ...latency, queued: rounds.reduce((a, r) => a + r.queued, 0) };
}

export function pacedLine(p: PacedPair): string {
  const s = (x: PacedSide): string =>
    `${fmtInt(x.achieved)}/s p50 ${fmtMs(x.p50)} p99 ${fmtMs(x.p99)} max ${fmtMs(x.max)} ms, queued ${x.queued}, err ${x.errors}`;
  return `hub ${s(p.hub)} | relay ${s(p.relay)}`;
}

export function relayLine(r: RelayRunResult): string {
  const s = (x: SideResult): string =>
    `${fmtInt(x.rate)} (${x.roundRates.map(fmtInt).join(', ')}) p50 ${fmtMs(x.p50)} p99 ${fmtMs(x.p99)} ms, err ${x.errors}, cpu ${fmtInt(x.cpuMs)} ms, rss ${fmtInt(x.rssKiB / 1024)} MiB`;
  const ratios = r.roundRatios.map((x) => x.toFixed(2)).join(', ');
  const cpu = (x: SideResult): string =>
    `server ${fmtInt(x.perCall.serverUser + x.perCall.serverSys)} (user ${fmtInt(x.perCall.serverUser)}, sys ${fmtInt(x.perCall.serverSys)}), sim ${fmtInt(x.perCall.sim)}, callers ${fmtInt(x.perCall.callers)}`;
  return (
    `| ${fmtInt(r.devices)} | hub ${s(r.hub)} | relay ${s(r.relay)} | ` +
    `${(r.hub.rate / r.relay.rate).toFixed(2)}x; per round ${ratios}, median ` +
    `${median(r.roundRatios).toFixed(2)}x | load ${r.load.toFixed(1)} |\n` +
    `CPU us per call: hub ${cpu(r.hub)} | relay ${cpu(r.relay)}` +
    r.paced.map((p) => `\npaced ${fmtInt(p.rate)} calls/s: ${pacedLine(p)}`).join('')
  );
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      'cpu-prof': { type: 'string' },
      client: { type: 'string' },
      paced: { type: 'string' },
    },
  });
  const client = values.client ?? 'raw';
  if (client !== 'raw' && client !== 'node') throw new Error('--client: raw or node');
  const counts = (values.devices ?? '2000,10000').split(',').map((v) => intFlag(v, 'devices', 1));
  const seconds = intFlag(values.seconds, 'seconds', 10, 1);
  const rounds = intFlag(values.rounds, 'rounds', 2, 1);
  const paced = (values.paced ?? '')
    .split(',')
    .filter((v) => v !== '')
    .map((v) => intFlag(v, 'paced', 1, 1));
  runMain(async () => {
    for (const n of counts) {
      const r = await runRpcVsRelay(
        n,
        seconds,
        rounds,
        values['cpu-prof'],
        console.log,
        client,
        paced,
      );
      console.log(relayLine(r));
      if (r.profile) console.log(`\n${r.profile}`);
    }
  }, 3_600_000);
}
