/**
 * The relay side of the connection storm (issue 11): the same `fleetbench sim` load, the same
 * passwords, against bench/minimal-relay.ts in its own process. Times the storm the way the hub's
 * is timed (from the sim's "connecting" line, polling the server's session count every 100 ms)
 * and reads the relay's RSS before and at rest after, so both sides give RSS per device.
 */
import { DEFAULT_LIMITS } from '../src/main/config';
import { startSimProcess } from './bench-sim';
import { cpuTimeMs, listenOverflows, overflowsBetween, readMemory, RssSampler } from './proc-stats';
import { startRelayProcess, waitRelayOnline } from './relay-process';

export interface RelayStormResult {
  /** From the sim's "connecting" line until the relay held N sockets. */
  onlineMs: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  peakKb: number;
  /** CPU time the relay spent from the sim's start until all N sockets were open. */
  cpuMs: number;
  /** Handshakes the kernel dropped on full listen queues meanwhile (proc-stats.ts), if known. */
  listenOverflows: number | null;
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
  const relayProcess = await startRelayProcess({
    devicesFile: o.passwordsFile,
    backlog: o.backlog ?? DEFAULT_LIMITS.listenBacklog,
    startTimeoutMs: 60_000,
  });
  const relay = relayProcess.child;
  let sim: ReturnType<typeof startSimProcess> | null = null;
  try {
    await sleep(2000);
    const rssBeforeKb = readMemory(relay.pid).rssKb;
    const sampler = new RssSampler(relay.pid, 100);
    const overflows0 = listenOverflows();
    sim = startSimProcess({
      url: relayProcess.deviceUrl,
      passwordsFile: o.passwordsFile,
      count: o.devices,
      ramp: o.ramp,
      maxSeconds: Math.ceil(o.timeoutMs / 1000) + 120,
      label: 'relay-sim',
    });
    const t0 = await sim.started(60_000);
    const cpu0 = cpuTimeMs(relay.pid);
    await waitRelayOnline(relayProcess.http, o.devices, o.timeoutMs, 100);
    const onlineMs = performance.now() - t0;
    const cpuMs = cpuTimeMs(relay.pid) - cpu0;
    const overflows = overflowsBetween(overflows0, listenOverflows());
    log(`relay: ${o.devices} sockets in ${onlineMs.toFixed(0)} ms`);
    await sleep(o.settleMs ?? 3000);
    const rssAfterKb = readMemory(relay.pid).rssKb;
    return {
      onlineMs,
      rssBeforeKb,
      rssAfterKb,
      peakKb: sampler.stop(),
      cpuMs,
      listenOverflows: overflows,
    };
  } finally {
    await sim?.stop();
    await relay.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
