/**
 * The in-hub provisioning wait (hub-provisioning.ts) against a real hub: "online" means the
 * gateway saw the device authenticate before the deadline; a device that never comes online is a
 * timeout (issue 7 item 7), and a cancelled job stops the wait as cancelled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { localHubProvisioning } from '../../../../src/main/flasher/jobs/hub-provisioning';
import { SimDevice } from '../../../../src/main/sim/sim-device';
import { FlashError } from '../../../../src/shared/flash-state';
import { startTestHub, type TestHub } from '../../../support/hub-harness';

let t: TestHub | null = null;
let device: SimDevice | null = null;
afterEach(async () => {
  device?.stop();
  device = null;
  await t?.stop();
  t = null;
});

async function provisioningOf(hub: TestHub, signal = new AbortController().signal) {
  const { devices, bus } = hub.hub.services();
  return localHubProvisioning({
    createDevice: (input) => devices.create(input),
    isOnline: (id) => devices.isOnline(id),
    subscribe: (fn, o) => bus.subscribe(fn, o),
    deviceUrl: () => hub.hub.urls().device,
  })(signal);
}

describe('hub provisioning wait', () => {
  it('times out (false) at the deadline when the device never comes online', async () => {
    t = await startTestHub();
    const p = await provisioningOf(t);
    const dev = await p.createDevice('never');
    const started = Date.now();
    await expect(p.waitOnline(dev.id, 300)).resolves.toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('resolves true when the device connects before the deadline', async () => {
    t = await startTestHub();
    const p = await provisioningOf(t);
    const dev = await p.createDevice('bench');
    const waiting = p.waitOnline(dev.id, 10_000);
    device = new SimDevice({ url: p.deviceUrl, password: dev.token, reconnect: false });
    device.start();
    await expect(waiting).resolves.toBe(true);
  });

  it('rejects with cancelled when the job is cancelled while waiting', async () => {
    t = await startTestHub();
    const abort = new AbortController();
    const p = await provisioningOf(t, abort.signal);
    const dev = await p.createDevice('cancelled');
    const waiting = p.waitOnline(dev.id, 10_000);
    abort.abort();
    const err = await waiting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlashError);
    expect(err).toMatchObject({ code: 'cancelled' });
  });
});
