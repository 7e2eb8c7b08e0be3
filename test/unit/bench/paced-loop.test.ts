/**
 * The open-loop load of bench/rpc-vs-relay.ts `--paced`: calls due at a fixed rate, one in flight
 * per lane, latency timed from the moment a call was due (a call waiting for a lane pays the wait).
 */
import { describe, expect, it } from 'vitest';
import { runPacedLoop } from '../../../bench/paced-loop';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('bench paced loop', () => {
  it('sends calls at the asked rate, whatever the server speed, on free lanes only', async () => {
    let calls = 0;
    let inFlight = 0;
    let most = 0;
    const lanesSeen = new Set<number>();
    const r = await runPacedLoop(200, 8, 50, 400, async (lane) => {
      calls++;
      lanesSeen.add(lane);
      most = Math.max(most, ++inFlight);
      await sleep(5);
      inFlight--;
      return null;
    });
    // 200/s over 450 ms: 90 calls in all, 80 of them due in the window.
    expect(calls).toBe(90);
    expect(r.ok).toBe(80);
    expect(r.queued).toBe(0);
    expect(most).toBeLessThanOrEqual(8);
    expect(Math.max(...lanesSeen)).toBeLessThan(8);
    expect(r.latency.summary().p50).toBeGreaterThanOrEqual(4);
    expect(r.latency.summary().p50).toBeLessThan(40);
  });

  it('times a call from when it was due, so waiting for a lane shows in its latency', async () => {
    // One lane, a 10 ms server, 500 calls/s asked: the server keeps up with 100/s, so the queue
    // (and each call's latency) grows through the window.
    const r = await runPacedLoop(500, 1, 0, 200, async () => {
      await sleep(10);
      return null;
    });
    expect(r.ok).toBe(100);
    expect(r.queued).toBeGreaterThan(90);
    const s = r.latency.summary();
    // The last call was due at 200 ms and answered after about 100 x 10 ms.
    expect(s.max).toBeGreaterThan(600);
    expect(s.p50).toBeGreaterThan(200);
  });

  it('counts failures by reason, thrown or returned, and never as latencies', async () => {
    let n = 0;
    const r = await runPacedLoop(400, 4, 0, 100, async () => {
      await sleep(1);
      const k = n++;
      if (k % 4 === 1) return 'HTTP 503';
      if (k % 4 === 2) throw new Error('ECONNRESET');
      return null;
    });
    expect(r.ok + (r.errors['HTTP 503'] ?? 0) + (r.errors['ECONNRESET'] ?? 0)).toBe(40);
    expect(r.errors['HTTP 503']).toBe(10);
    expect(r.errors['ECONNRESET']).toBe(10);
    expect(r.latency.count).toBe(r.ok);
  });

  it('refuses a rate or lane count that cannot run', async () => {
    const call = async (): Promise<null> => null;
    await expect(runPacedLoop(0, 1, 0, 10, call)).rejects.toThrow(/rate > 0/);
    await expect(runPacedLoop(10, 0, 0, 10, call)).rejects.toThrow(/lanes/);
  });
});
