/**
 * Issue 11: memory per device. A session that is done with its steps and has no call waiting holds
 * no call table, no rate limiter (dropped at a liveness tick once idle) and no timer of its own: every session's liveness pings run on one shared clock
 * (each on its own phase, see liveness.test.ts), so the process's timers do not grow with the fleet.
 */
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  RawDevice,
  deviceUrl,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';

function timeoutCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

const INTERVAL = 400;

describe('per-session memory at rest', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ timings: { pingIntervalMs: INTERVAL } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('sessions at rest hold no call state, and the timers do not grow with the sessions', async () => {
    const N = 30;
    const made: { id: string; token: string }[] = [];
    for (let i = 0; i < N; i++) made.push(await t.createDevice());
    const gateway = t.hub.services().gateway;
    const timersBefore = timeoutCount();
    // Nobody asks the kernel for the peer's address at connect (only a log line needs it).
    const peername = vi.spyOn(
      Socket.prototype as unknown as { _getpeername: () => object },
      '_getpeername',
    );
    const devices: RawDevice[] = [];
    for (const d of made) {
      const dev = await RawDevice.connect(deviceUrl(t), {
        headers: { authorization: `Bearer ${d.token}` },
      });
      await dev.answerGetInfo();
      devices.push(dev);
    }
    await waitFor(() => made.every((d) => gateway.session(d.id)?.pending.size === 0));
    expect(peername).not.toHaveBeenCalled();
    peername.mockRestore();
    expect(gateway.session(made[0]?.id ?? '')?.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const d of made) {
      const s = gateway.session(d.id);
      expect(s?.holdsCallState).toBe(false);
    }
    // A liveness tick finds every limiter idle (full buckets) and drops it.
    await waitFor(() => made.every((d) => gateway.session(d.id)?.holdsLimiter === false), 5000);
    // The next frame builds a fresh one, and it is checked as before.
    const first = devices[0];
    const firstId = made[0]?.id ?? '';
    if (first === undefined) throw new Error('no device');
    first.send({ id: 77, method: 'No.Such.Method' });
    await first.next((f) => f['id'] === 77);
    expect(gateway.session(firstId)?.holdsLimiter).toBe(true);
    // One shared liveness clock (and whatever few timers the hub itself keeps), not one per session.
    expect(timeoutCount() - timersBefore).toBeLessThan(N / 3);
    for (const dev of devices) dev.close();
    await Promise.all(devices.map((d) => d.closed()));
  });
});
