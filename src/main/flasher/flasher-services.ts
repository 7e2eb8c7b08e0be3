/**
 * The hub's local flasher (`/api/v2/local/*`): the USB-serial ports of the machine the hub runs
 * on, with one port registry shared by flash jobs, bench runs and monitors (one owner per port).
 */
import type { FastifyInstance } from 'fastify';
import type { NotificationBus } from '../events/notification-bus';
import type { KeysRepo } from '../store/keys-repo';
import type { DeviceService } from '../devices/device-service';
import { PortRegistry } from './serial/port-registry';
import { PortWatcher } from './serial/port-watch';
import { listPorts } from './serial/port-list';
import { FlashJobManager, type JobManagerOptions } from './jobs/job-manager';
import { localHubProvisioning } from './jobs/hub-provisioning';
import { mirrorJobs, mirrorPorts } from './jobs/job-notifications';
import { BenchDesk } from './bench/bench-desk';
import { MonitorEndpoint } from '../api/local-monitor-socket';
import { registerLocalFlasherRoutes } from '../api/local-flasher-routes';

export interface FlasherOptions {
  /** Flash jobs running at once; default 4. */
  concurrency?: number;
  /** Finished jobs kept in memory; default 100. */
  keepFinished?: number;
  /** Paths listed as ports when they exist (simulator ptys: socat links). */
  extraPorts?: string[];
  /** Poll period of the port watcher (flash.port.added/removed); default 2000 ms, 0 = off. */
  portPollMs?: number;
  /** Worker knobs (stall timeout, STM32 timeouts) for tests and benchmarks. */
  worker?: JobManagerOptions['worker'];
}

export interface FlasherServices {
  registry: PortRegistry;
  jobs: FlashJobManager;
  bench: BenchDesk;
  monitor: MonitorEndpoint;
  watcher: PortWatcher | null;
}

export interface FlasherDeps {
  bus: NotificationBus;
  keys: KeysRepo;
  devices: DeviceService;
  /** The URL provisioned devices are told to connect to. */
  deviceUrl: () => string;
  maxUploadBytes: number;
}

/** Builds the flasher and registers its routes; the port watcher is started by the caller. */
export async function startFlasher(
  app: FastifyInstance,
  opts: FlasherOptions,
  deps: FlasherDeps,
): Promise<FlasherServices> {
  const { bus, devices } = deps;
  const registry = new PortRegistry();
  const jobs = new FlashJobManager({
    registry,
    ...(opts.concurrency !== undefined && { concurrency: opts.concurrency }),
    ...(opts.keepFinished !== undefined && { keepFinished: opts.keepFinished }),
    ...(opts.worker !== undefined && { worker: opts.worker }),
    provisioning: localHubProvisioning({
      createDevice: (input) => devices.create(input),
      isOnline: (id) => devices.isOnline(id),
      subscribe: (fn, o) => bus.subscribe(fn, o),
      deviceUrl: deps.deviceUrl,
    }),
  });
  mirrorJobs(jobs, bus);
  const bench = new BenchDesk(jobs, bus);
  const monitor = new MonitorEndpoint({ keys: deps.keys, registry });
  const portListing = { extraPaths: opts.extraPorts ?? [] };
  const pollMs = opts.portPollMs ?? 2000;
  const watcher = pollMs > 0 ? new PortWatcher({ intervalMs: pollMs, list: portListing }) : null;
  if (watcher) {
    mirrorPorts(watcher, bus);
    // The watcher reports each problem once (once per outage for failed listings).
    watcher.on('warning', (msg) => app.log.warn({ component: 'port-watch' }, msg));
    watcher.on('recovered', (failedPolls) =>
      app.log.info({ component: 'port-watch', failedPolls }, 'port listing works again'),
    );
  }
  await registerLocalFlasherRoutes(app, {
    manager: jobs,
    bench,
    monitor,
    listPorts: () => listPorts(portListing),
    maxUploadBytes: deps.maxUploadBytes,
  });
  return { registry, jobs, bench, monitor, watcher };
}

/** Cancels running jobs and releases their ports before the rest of the hub stops. */
export async function stopFlasher(f: FlasherServices): Promise<void> {
  f.watcher?.stop();
  f.bench.close();
  await f.monitor.close();
  await f.jobs.close();
}
