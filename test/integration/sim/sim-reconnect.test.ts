import { afterEach, describe, expect, it } from 'vitest';
import { SimDevice } from '../../../src/main/sim/sim-device';
import { FakeHub } from '../../support/fake-hub';

let hub: FakeHub | null = null;
const devices: SimDevice[] = [];

afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop()));
  await hub?.stop();
  hub = null;
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const gaps = (ts: number[]): number[] => ts.slice(1).map((t, i) => t - (ts[i] ?? 0));

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('SimDevice reconnect back-off (Mongoose OS style)', () => {
  it('doubles the wait after each failure up to the maximum', async () => {
    hub = new FakeHub({ devices: {} });
    await hub.start();
    const dev = new SimDevice({
      url: hub.url,
      password: 'nobody',
      reconnect: { initialMs: 100, maxMs: 400 },
    });
    devices.push(dev);
    dev.start();
    await waitUntil(() => hub!.attempts.length >= 6, 6000);
    await dev.stop();
    const g = gaps(hub.attempts.slice(0, 6).map((a) => a.at));
    const expected = [100, 200, 400, 400, 400];
    g.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual((expected[i] ?? 0) - 5);
      // Each gap also holds one refused handshake; allow for a busy machine.
      expect(gap).toBeLessThan((expected[i] ?? 0) + 200);
    });
  });

  it('starts over at the initial wait after a session that opened', async () => {
    hub = new FakeHub({ devices: {} });
    await hub.start();
    const dev = new SimDevice({
      url: hub.url,
      password: 'late',
      id: 'late',
      reconnect: { initialMs: 60, maxMs: 2000 },
    });
    devices.push(dev);
    dev.start();
    await waitUntil(() => hub!.attempts.length >= 4, 3000); // waits grew: 60, 120, 240
    hub.addDevice('late', 'late');
    const s1 = await hub.waitForSession('late', 1, 3000);
    await hub.waitForInfo(s1);
    const dropAt = performance.now();
    s1.ws.terminate();
    await hub.waitForSession('late', 2, 3000);
    const back = hub.attempts[hub.attempts.length - 1]!.at - dropAt;
    expect(back).toBeGreaterThanOrEqual(50);
    expect(back).toBeLessThan(300); // the initial 60 ms, not the 960 ms it would be without the reset
  });

  it('stop() during a back-off wait cancels it; stop() on a session closes cleanly with 1000', async () => {
    hub = new FakeHub({ devices: { pw: 'd' } });
    await hub.start();
    const waiting = new SimDevice({
      url: hub.url,
      password: 'wrong',
      reconnect: { initialMs: 100, maxMs: 100 },
    });
    devices.push(waiting);
    waiting.start();
    await waitUntil(() => hub!.attempts.length >= 1);
    await sleep(20);
    await waiting.stop();
    const n = hub.attempts.length;
    await sleep(300);
    expect(hub.attempts.length).toBe(n);

    const live = new SimDevice({
      url: hub.url,
      password: 'pw',
      id: 'd',
      reconnect: { initialMs: 50, maxMs: 50 },
    });
    devices.push(live);
    live.start();
    const s = await hub.waitForSession('d');
    await hub.waitForInfo(s);
    await live.stop();
    expect(await s.waitClosed()).toBe(1000);
    expect(live.connected).toBe(false);
    await sleep(150);
    expect(hub.sessionsOf('d')).toHaveLength(1);
  });

  it('reconnect: false stays down after a drop', async () => {
    hub = new FakeHub({ devices: { pw: 'd' } });
    await hub.start();
    const dev = new SimDevice({ url: hub.url, password: 'pw', id: 'd', reconnect: false });
    devices.push(dev);
    dev.start();
    const s = await hub.waitForSession('d');
    s.ws.terminate();
    await sleep(200);
    expect(hub.sessionsOf('d')).toHaveLength(1);
    expect(dev.connected).toBe(false);
  });

  it('a hub that replaces the session (new login) is followed by a clean reconnect', async () => {
    hub = new FakeHub({ devices: { pw: 'd' } });
    await hub.start();
    const dev = new SimDevice({
      url: hub.url,
      password: 'pw',
      id: 'd',
      reconnect: { initialMs: 40, maxMs: 40 },
    });
    devices.push(dev);
    const closes: number[] = [];
    dev.on('close', (code) => closes.push(code));
    dev.start();
    const s1 = await hub.waitForSession('d');
    s1.ws.close(1000, 'replaced');
    const s2 = await hub.waitForSession('d', 2);
    await hub.waitForInfo(s2);
    expect(closes).toEqual([1000]);
    expect(dev.ready).toBe(true);
  });
});
