import { afterEach, describe, expect, it } from 'vitest';
import { SimDevice, type SimDeviceOptions } from '../../../src/main/sim/sim-device';
import { OVERSIZE_FRAME_BYTES } from '../../../src/main/sim/sim-frames';
import { FakeHub, type FakeSession } from '../../support/fake-hub';

let hub: FakeHub | null = null;
const devices: SimDevice[] = [];

afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop()));
  await hub?.stop();
  hub = null;
});

async function startHub(ids: string[]): Promise<FakeHub> {
  hub = new FakeHub({ devices: Object.fromEntries(ids.map((id) => [`pw-${id}`, id])) });
  await hub.start();
  return hub;
}

async function connect(
  h: FakeHub,
  id: string,
  opts: Partial<SimDeviceOptions>,
): Promise<{ dev: SimDevice; session: FakeSession }> {
  const dev = new SimDevice({
    url: h.url,
    password: `pw-${id}`,
    id,
    reconnect: { initialMs: 50, maxMs: 100 },
    ...opts,
  });
  devices.push(dev);
  dev.start();
  const session = await h.waitForSession(id);
  return { dev, session };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SimDevice faults', () => {
  it('refuseMethods: never answers those methods, answers the rest', async () => {
    const h = await startHub(['a']);
    const { session } = await connect(h, 'a', {
      faults: { refuseMethods: ['FS.List', 'Sys.GetInfo'] },
    });
    await expect(session.call('FS.List', {}, { timeoutMs: 300 })).rejects.toThrow(/no reply/);
    expect(await session.result('FS.ListExt')).toEqual([]);
    expect(session.info).toBeNull(); // the hub's own Sys.GetInfo went unanswered too
  });

  it('errorRate 1: every call gets an error reply and is not carried out', async () => {
    const h = await startHub(['a']);
    const { dev, session } = await connect(h, 'a', { faults: { errorRate: 1 } });
    const r = await session.call('FS.Put', { filename: 'x', data: 'YQ==' });
    expect(r.error).toEqual({ code: -32603, message: 'simulated failure' });
    expect(dev.fs.list()).toEqual([]);
    expect(dev.ready).toBe(false);
  });

  it('errorRate 0.5 is repeatable for a seed and differs across seeds', async () => {
    const h = await startHub(['a', 'b', 'c']);
    const pattern = async (id: string, seed: number): Promise<string> => {
      const { session } = await connect(h, id, { seed, faults: { errorRate: 0.5 } });
      await sleep(50); // let the hub's Sys.GetInfo draw first, as for every device
      let out = '';
      for (let i = 0; i < 40; i++) out += (await session.call('FS.List')).error ? 'E' : '.';
      return out;
    };
    const a = await pattern('a', 7);
    const b = await pattern('b', 7);
    const c = await pattern('c', 8);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).toContain('E');
    expect(a).toContain('.');
  });

  it('garbageRate 1: follows frames with invalid JSON, id-less errors and 20 KB frames; still works', async () => {
    const h = await startHub(['a']);
    const { dev, session } = await connect(h, 'a', { seed: 3, faults: { garbageRate: 1 } });
    for (let i = 0; i < 30; i++) expect(await session.result('FS.List')).toEqual([]);
    await sleep(50);
    const invalid = session.frames.filter((f) => f.json === undefined);
    const idless = session.frames.filter(
      (f) => f.json && f.json.error !== undefined && f.json.id === undefined,
    );
    const big = session.frames.filter((f) => f.raw.length >= OVERSIZE_FRAME_BYTES);
    expect(invalid.length).toBeGreaterThan(0);
    expect(idless.length).toBeGreaterThan(0);
    expect(big.length).toBeGreaterThan(0);
    expect(dev.counters.garbageSent).toBe(invalid.length + idless.length + big.length);
  });

  it('replyDelayMs holds every reply', async () => {
    const h = await startHub(['a']);
    const { session } = await connect(h, 'a', { faults: { replyDelayMs: 150 } });
    const t0 = performance.now();
    await session.result('FS.List');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('dropAfterMs cuts the socket abruptly, then the device reconnects', async () => {
    const h = await startHub(['a']);
    const { session } = await connect(h, 'a', { faults: { dropAfterMs: 150 } });
    const t0 = performance.now();
    expect(await session.waitClosed()).toBe(1006);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(120);
    await h.waitForSession('a', 2, 2000);
  });
});
