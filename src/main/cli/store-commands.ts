/**
 * `fleetbench keys ...` and `fleetbench devices ...`: work directly on a data dir, also while a
 * hub runs on it (WAL lets both open it; the hub reads registry rows on each authentication).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../store/store';
import { REGISTRY_FILE } from '../store/data-dir';
import { DeviceService } from '../devices/device-service';
import { NotificationBus } from '../events/notification-bus';
import { DEFAULT_LIMITS } from '../config';
import { CliError } from './cli-errors';
import { HubError } from '../../shared/errors';

async function withStore<T>(
  dataDir: string,
  create: boolean,
  fn: (s: Store) => T | Promise<T>,
): Promise<T> {
  if (!create && !existsSync(join(dataDir, REGISTRY_FILE))) {
    throw new CliError(
      `no Fleetbench data in ${dataDir}: run 'fleetbench serve' once or pass --data-dir`,
    );
  }
  const store = openStore(dataDir, 0);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

function deviceService(store: Store): DeviceService {
  return new DeviceService(store, new NotificationBus(), {
    maxShadowBytes: DEFAULT_LIMITS.maxShadowBytes,
    onError: () => undefined,
  });
}

const now = (): number => Math.floor(Date.now() / 1000);

export const keysCreate = (dataDir: string) =>
  withStore(dataDir, true, (s) => s.keys.create(now()));
export const keysList = (dataDir: string) => withStore(dataDir, false, (s) => s.keys.list());
export const keysDelete = (dataDir: string, id: string) =>
  withStore(dataDir, false, (s) => {
    if (!s.keys.remove(id)) throw new CliError(`no key '${id}'`);
    return true;
  });

export const devicesAdd = (dataDir: string, input: { name?: string; id?: string }) =>
  withStore(dataDir, true, (s) => deviceService(s).create(input));
export const devicesList = (dataDir: string) =>
  withStore(dataDir, false, (s) => deviceService(s).list());
export const devicesRemove = (dataDir: string, id: string) =>
  withStore(dataDir, false, (s) => {
    try {
      deviceService(s).remove(id);
    } catch (err) {
      if (err instanceof HubError && err.kind === 'device_not_found')
        throw new CliError(`no device '${id}'`);
      throw err;
    }
    return true;
  });
