/**
 * The hub side of provisioning (provision-flow.ts `HubProvisioning`) for a job manager that runs
 * inside the hub: devices are created in the registry (PROTOCOL.md 4, POST /devices), and "online"
 * is the gateway's `online` notification for that device (PROTOCOL.md 7), so no polling.
 */
import type { Notification } from '../../../shared/types';
import type { HubProvisioning } from '../provision/provision-flow';
import type { ProvisioningFactory } from './job-manager';

export interface LocalHubDeps {
  createDevice(input: { name?: string }): { id: string; token: string };
  isOnline(id: string): boolean;
  subscribe(fn: (p: { n: Notification }) => void, opts: { deviceId: string }): () => void;
  /** The URL devices connect to; known only once the hub listens. */
  deviceUrl(): string;
}

/** Resolves true when the device is (or comes) online, false at the deadline or on abort. */
export function waitForOnline(
  deps: Pick<LocalHubDeps, 'isOnline' | 'subscribe'>,
  id: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (deps.isOnline(id)) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const done = (v: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = (): void => done(false);
    const unsubscribe = deps.subscribe(
      (p) => {
        if (p.n.name === 'online') done(true);
      },
      { deviceId: id },
    );
    const timer = setTimeout(() => done(deps.isOnline(id)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // It may have connected between the first check and the subscription.
    if (deps.isOnline(id)) done(true);
  });
}

export function localHubProvisioning(deps: LocalHubDeps): ProvisioningFactory {
  return (signal: AbortSignal): HubProvisioning => ({
    get deviceUrl() {
      return deps.deviceUrl();
    },
    createDevice: async (name?: string) => {
      const d = deps.createDevice(name !== undefined ? { name } : {});
      return { id: d.id, token: d.token };
    },
    waitOnline: (id, timeoutMs) => waitForOnline(deps, id, timeoutMs, signal),
  });
}
