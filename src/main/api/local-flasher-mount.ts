/**
 * The HTTP side of the hub's local flasher: `/api/v2/local/*` routes and the serial monitor
 * socket, mounted on the flasher core built by flasher/flasher-services.ts. Kept here so flasher/
 * never imports api/ (DESIGN.md layers); the hub composes the two.
 */
import type { FastifyInstance } from 'fastify';
import type { KeysRepo } from '../store/keys-repo';
import type { FlasherCore } from '../flasher/flasher-services';
import { MonitorEndpoint } from './local-monitor-socket';
import { registerLocalFlasherRoutes } from './local-flasher-routes';

export interface FlasherServices extends FlasherCore {
  monitor: MonitorEndpoint;
}

export async function mountLocalFlasher(
  app: FastifyInstance,
  core: FlasherCore,
  deps: { keys: KeysRepo; maxUploadBytes: number },
): Promise<FlasherServices> {
  const monitor = new MonitorEndpoint({ keys: deps.keys, registry: core.registry });
  await registerLocalFlasherRoutes(app, {
    manager: core.jobs,
    bench: core.bench,
    monitor,
    listPorts: core.listPorts,
    maxUploadBytes: deps.maxUploadBytes,
  });
  return { ...core, monitor };
}

/** Cancels running jobs and releases their ports before the rest of the hub stops. */
export async function stopFlasher(f: FlasherServices): Promise<void> {
  f.watcher?.stop();
  f.bench.close();
  await f.monitor.close();
  await f.jobs.close();
}
