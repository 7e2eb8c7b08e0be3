/**
 * The relay side of the connection storm (issue 11): the same `fleetbench sim` load, the same
 * passwords, against bench/minimal-relay.ts in its own process. Times the storm the way the hub's
 * is timed (from the sim's "connecting" line, polling the server's session count every 100 ms)
 * and reads the relay's RSS before and at rest after, so both sides give RSS per device.
 */
import { DEFAULT_LIMITS } from '../src/main/config';
import { BenchChild } from './bench-child';
import { startSimProcess } from './bench-sim';
import { cpuTimeMs, readMemory, RssSampler } from './proc-stats';

export interface RelayStormResult {
  /** From the sim's "connecting" line until the relay held N sockets. */
  onlineMs: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  peakKb: number;
  /** CPU time the relay spent from the sim's start until all N sockets were open. */
  cpuMs: number;
}

export async function runRelayStorm(o: {
  passwordsFile: string;
  devices: number;
  ramp: number;
  timeoutMs: number;
  /** The relay's listen backlog; by default the hub's (`limits.listenBacklog`), for a fair race. */
  backlog?: number;
  settleMs?: number;
  log?: (line: string) => void;
}): Promise<RelayStormResult> {
  const log = o.log ?? (() => undefined);
  const relay = BenchChild.node(
    'bench/minimal-relay.ts',
    ['--devices', o.passwordsFile, '--backlog', String(o.backlog ?? DEFAULT_LIMITS.listenBacklog)],
    {
      label: 'relay',
      nodeFlags: ['--import', 'tsx'],
    },
  );
  let sim: ReturnType<typeof startSimProcess> | null = null;
  try {
    const m = await relay.waitForLine(/^relay: (http:\/\/\S+)/, 60_000);
    const http = m[1] ?? '';
    await sleep(2000);
    const rssBeforeKb = readMemory(relay.pid).rssKb;
    const sampler = new RssSampler(relay.pid, 100);
    sim = startSimProcess({
      url: `${http.replace(/^http/, 'ws')}/api/v2/rpc`,
      passwordsFile: o.passwordsFile,
      count: o.devices,
      ramp: o.ramp,
      maxSeconds: Math.ceil(o.timeoutMs / 1000) + 120,
      label: 'relay-sim',
    });
    const t0 = await sim.started(60_000);
    const cpu0 = cpuTimeMs(relay.pid);
    const deadline = performance.now() + o.timeoutMs;
    let online = 0;
    while (online < o.devices) {
      if (performance.now() > deadline) throw new Error(`relay storm: ${online} of ${o.devices}`);
      await sleep(100);
      online = await relayOnline(http);
    }
    const onlineMs = performance.now() - t0;
    const cpuMs = cpuTimeMs(relay.pid) - cpu0;
    log(`relay: ${o.devices} sockets in ${onlineMs.toFixed(0)} ms`);
    await sleep(o.settleMs ?? 3000);
    const rssAfterKb = readMemory(relay.pid).rssKb;
    return { onlineMs, rssBeforeKb, rssAfterKb, peakKb: sampler.stop(), cpuMs };
  } finally {
    await sim?.stop();
    await relay.stop();
  }
}

async function relayOnline(http: string): Promise<number> {
  const res = await fetch(`${http}/status`);
  const body: unknown = await res.json();
  const n =
    typeof body === 'object' && body !== null && 'online' in body ? Number(body.online) : NaN;
  if (!Number.isFinite(n)) throw new Error('relay /status: no online count');
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
