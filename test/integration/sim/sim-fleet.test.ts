import { afterEach, describe, expect, it } from 'vitest';
import { SimFleet } from '../../../src/main/sim/sim-fleet';
import { FakeHub } from '../../support/fake-hub';

let hub: FakeHub | null = null;
let fleet: SimFleet | null = null;

afterEach(async () => {
  await fleet?.stop();
  await hub?.stop();
  fleet = null;
  hub = null;
});

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SimFleet', () => {
  it('connects 500 devices to one hub; every one becomes ready; stop closes them all', async () => {
    const n = 500;
    const passwords = Array.from({ length: n }, (_, i) => `fleet-pw-${i}`);
    hub = new FakeHub({ devices: Object.fromEntries(passwords.map((p, i) => [p, `dev-${i}`])) });
    await hub.start();
    fleet = new SimFleet({
      url: hub.url,
      passwords,
      ids: passwords.map((_, i) => `dev-${i}`),
      seed: 100,
    });
    expect(fleet.stats()).toEqual({ devices: n, connected: 0, ready: 0, connectMs: [] });
    fleet.start();
    await waitUntil(() => fleet!.stats().ready === n, 15_000);
    const stats = fleet.stats();
    expect(stats.connected).toBe(n);
    expect(stats.connectMs).toHaveLength(n);
    expect(stats.connectMs.every((ms) => ms > 0 && ms < 15_000)).toBe(true);
    expect(new Set(hub.sessions.map((s) => s.deviceId)).size).toBe(n);
    await waitUntil(() => hub!.sessions.every((s) => s.info !== null), 5000);
    expect(hub.sessions[0]?.info).toMatchObject({ arch: 'sim' });
    await fleet.stop();
    await waitUntil(() => hub!.openCount === 0, 5000);
    expect(fleet.stats().connected).toBe(0);
  });

  it('ramps devices up at rampPerSecond and shares one ticker for periodic reports', async () => {
    const passwords = Array.from({ length: 10 }, (_, i) => `r-${i}`);
    hub = new FakeHub({ devices: Object.fromEntries(passwords.map((p) => [p, p])) });
    await hub.start();
    fleet = new SimFleet({
      url: hub.url,
      passwords,
      ids: passwords,
      rampPerSecond: 40,
      shadowIntervalMs: 100,
      tickResolutionMs: 20,
    });
    const t0 = performance.now();
    fleet.start();
    await waitUntil(() => fleet!.stats().ready === 10, 5000);
    // 10 devices at 40/s: the last one starts about 225 ms after the first.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200);
    const firstAt = hub.attempts[0]?.at ?? 0;
    const lastAt = hub.attempts[9]?.at ?? 0;
    expect(lastAt - firstAt).toBeGreaterThanOrEqual(180);
    await new Promise((r) => setTimeout(r, 400));
    for (const s of hub.sessions)
      expect(s.notifications('Dash.Shadow.Update').length).toBeGreaterThanOrEqual(2);
  });
});
