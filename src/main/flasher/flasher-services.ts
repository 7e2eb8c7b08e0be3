/**
 * The hub's local flasher: the USB-serial ports of the machine the hub runs on, with one port
 * registry shared by flash jobs, bench runs and monitors (one owner per port). Its HTTP side
 * (`/api/v2/local/*` and the monitor socket) is mounted by api/local-flasher-mount.ts: flasher/
 * does not import api/ (DESIGN.md layers).
 */
import type { NotificationBus } from '../events/notification-bus';
import type { DeviceService } from '../devices/device-service';
import { PortRegistry } from './serial/port-registry';
import { PortWatcher } from './serial/port-watch';
import { listPorts, type PortInfo } from './serial/port-list';
import { FlashJobManager, type JobManagerOptions } from './jobs/job-manager';
import { localHubProvisioning } from './jobs/hub-provisioning';
import { mirrorJobs, mirrorPorts } from './jobs/job-notifications';
import { BenchDesk } from './bench/bench-desk';

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

export interface FlasherCore {
  registry: PortRegistry;
  jobs: FlashJobManager;
  bench: BenchDesk;
  watcher: PortWatcher | null;
  /** The serial ports of this machine (plus the configured extra paths). */
  listPorts: () => Promise<PortInfo[]>;
}

/** Where the port watcher reports trouble (the hub's logger). */
export interface FlasherLog {
  warn(msg: string): void;
  info(obj: object, msg: string): void;
}

export interface FlasherDeps {
  bus: NotificationBus;
  devices: DeviceService;
  /** The URL provisioned devices are told to connect to. */
  deviceUrl: () => string;
  log: FlasherLog;
}

/** Builds the flasher; the port watcher is started by the caller. */
export function createFlasher(opts: FlasherOptions, deps: FlasherDeps): FlasherCore {
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
  const portListing = { extraPaths: opts.extraPorts ?? [] };
  const pollMs = opts.portPollMs ?? 2000;
  const watcher = pollMs > 0 ? new PortWatcher({ intervalMs: pollMs, list: portListing }) : null;
  if (watcher) {
    mirrorPorts(watcher, bus);
    // The watcher reports each problem once (once per outage for failed listings).
    watcher.on('warning', (msg) => deps.log.warn(msg));
    watcher.on('recovered', (failedPolls) =>
      deps.log.info({ failedPolls }, 'port listing works again'),
    );
  }
  return { registry, jobs, bench, watcher, listPorts: () => listPorts(portListing) };
}
