/**
 * The setup the REST RPC benchmarks share (rpc-throughput.ts against a bare `ws` server,
 * rpc-vs-relay.ts against the minimal relay): the hub in its own process, the devices created
 * through its REST API, a `fleetbench sim` with their passwords connected to the hub and through
 * its session steps, and the same devices once more for the baseline side (a second sim with the
 * same passwords), so both sides answer with the same simulated firmware.
 */
import { startHubProcess, type HubProcess } from './bench-hub';
import { startSimProcess, type SimProcess } from './bench-sim';
import { createDevices, writePasswords, type CreateResult } from './bench-devices';
import { HubClient } from './http-json';
import { SessionWatch } from './session-watch';
import { waitOnlineAndQuiet } from './hub-status';
import type { TempDir } from './temp-dir';

export interface RpcHubOptions {
  devices: number;
  /** Keep-alive sockets of the REST client: one per concurrent caller. */
  clients: number;
  /** Device creations in flight (createDevices' default when absent). */
  createConcurrency?: number;
  /** The sims stop by themselves after this many seconds (a bound if we cannot stop them). */
  maxSeconds: number;
  cpuProfDir?: string;
  /** The passwords file goes here. */
  tmp: TempDir;
  log: (line: string) => void;
}

export interface RpcHub {
  readonly hub: HubProcess;
  readonly client: HubClient;
  readonly created: CreateResult;
  readonly ids: string[];
  /**
   * Connects the devices to the hub and waits until all went through their session steps. With
   * `pollOnWatchFailure`, a session watcher dropped as too slow (1013, at 10k devices on two
   * cores) falls back to polling the hub's own counters instead of failing the run.
   */
  connectToHub(readyTimeoutMs: number, pollOnWatchFailure?: boolean): Promise<SimProcess>;
  /** The same devices (same passwords) once more, connected to `url`. */
  startBaselineSim(url: string, label: string): SimProcess;
  /** Closes the client, stops the hub's sim, then the hub. */
  close(): Promise<void>;
}

/** Starts the hub and creates the devices; stops the hub again if that fails. */
export async function startRpcHub(o: RpcHubOptions): Promise<RpcHub> {
  const hub = await startHubProcess({
    ...(o.cpuProfDir !== undefined && { cpuProfDir: o.cpuProfDir }),
    onLine: (l) => o.log(`  [hub] ${l}`),
  });
  const client = new HubClient(hub.http, hub.key, o.clients);
  let created: CreateResult;
  try {
    created = await createDevices(
      client,
      o.devices,
      o.createConcurrency !== undefined ? { concurrency: o.createConcurrency } : {},
    );
  } catch (err) {
    client.close();
    await hub.stop();
    throw err;
  }
  const ids = created.devices.map((d) => d.id);
  const passwordsFile = o.tmp.file('passwords.txt');
  writePasswords(passwordsFile, created.devices);
  const sim = (url: string, label: string): SimProcess =>
    startSimProcess({
      url,
      passwordsFile,
      count: o.devices,
      ramp: 0,
      maxSeconds: o.maxSeconds,
      label,
    });
  let simHub: SimProcess | null = null;
  return {
    hub,
    client,
    created,
    ids,
    async connectToHub(readyTimeoutMs, pollOnWatchFailure = false) {
      const watch = await SessionWatch.open(hub.ws, hub.key, ids);
      simHub = sim(hub.deviceUrl, 'sim-hub');
      try {
        await watch.allReady(readyTimeoutMs);
      } catch (err) {
        if (!pollOnWatchFailure) throw err;
        o.log(`session watch: ${(err as Error).message}; polling the hub's counters instead`);
        await waitOnlineAndQuiet(client, o.devices, readyTimeoutMs);
      } finally {
        await watch.close();
      }
      return simHub;
    },
    startBaselineSim: sim,
    async close() {
      client.close();
      await simHub?.stop();
      await hub.stop();
    },
  };
}
