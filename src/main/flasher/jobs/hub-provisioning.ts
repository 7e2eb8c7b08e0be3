/**
 * The hub side of provisioning (provision-flow.ts `HubProvisioning`) for a job manager that runs
 * inside the hub: devices are created in the registry (PROTOCOL.md 4, POST /devices), and "online"
 * is the gateway's `online` notification for that device (PROTOCOL.md 7), so no polling.
 */
import { FlashError } from '../../../shared/flash-state';
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

/**
 * Resolves true when the device is (or comes) online before the deadline and false at the
 * deadline: a device that was not seen to come online in time timed out, whatever its state at
 * that instant. An abort rejects with `cancelled`.
 */
export function waitForOnline(
  deps: Pick<LocalHubDeps, 'isOnline' | 'subscribe'>,
  id: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (signal?.aborted) return Promise.reject(cancelled(id));
  if (deps.isOnline(id)) return Promise.resolve(true);
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    const done = (v: boolean | FlashError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (v instanceof FlashError) reject(v);
      else resolve(v);
    };
    const onAbort = (): void => done(cancelled(id));
    const unsubscribe = deps.subscribe(
      (p) => {
        if (p.n.name === 'online') done(true);
      },
      { deviceId: id },
    );
    const timer = setTimeout(() => done(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // It may have connected between the first check and the subscription.
    if (deps.isOnline(id)) done(true);
  });
}

function cancelled(id: string): FlashError {
  return new FlashError('cancelled', `cancelled while waiting for ${id} to come online`);
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
