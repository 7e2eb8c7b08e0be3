import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RawDevice, deviceUrl, sleep, startTestHub, waitFor } from '../../support/hub-harness';

/**
 * PROTOCOL.md 1: ping every interval, drop after maxMissedPongs missed pongs. A peer that never
 * answers must get exactly maxMissedPongs pings and be dropped exactly maxMissedPongs intervals
 * after the first: not one ping more, not one less, whatever the phase of its connect.
 */
describe('liveness: the missed-pong limit at its edge (PROTOCOL.md 1)', () => {
  const INTERVAL = 200;
  const MAX = 3;

  it('drops a peer that never answers after exactly maxMissedPongs pings, and keeps one that answers', async () => {
    const t = await startTestHub({ timings: { pingIntervalMs: INTERVAL, maxMissedPongs: MAX } });
    try {
      const silentDev = await t.createDevice();
      const livelyDev = await t.createDevice();
      // Connect the silent peers at different phases: each session has its own clock.
      const runs: { pings: number; connectToClose: number; firstPingToClose: number }[] = [];
      for (const offset of [0, 70, 140]) {
        await sleep(offset);
        const pings: number[] = [];
        // Taken before the connect, so it is never later than the hub's first ping: a stall of
        // this process when that ping arrives cannot make the drop look early.
        const connectAt = performance.now();
        // A bare socket, so the ping listener is there before the first ping (sent at upgrade).
        const silent = new WebSocket(deviceUrl(t), {
          headers: { authorization: `Bearer ${silentDev.token}` },
          autoPong: false,
        });
        silent.on('ping', () => pings.push(performance.now()));
        const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
        // It sends nothing at all, not even the Sys.GetInfo answer: a frame is a sign of life.
        const lively = await RawDevice.connect(deviceUrl(t), {
          headers: { authorization: `Bearer ${livelyDev.token}` },
        });
        await lively.answerGetInfo();
        await silentClosed;
        const closedAt = performance.now();
        runs.push({
          pings: pings.length,
          connectToClose: closedAt - connectAt,
          firstPingToClose: closedAt - (pings[0] ?? closedAt),
        });
        await waitFor(() => !t.hub.services().gateway.isOnline(silentDev.id));
        // The answering peer (auto-pong) outlived several intervals and is still there.
        expect(lively.ws.readyState).toBe(lively.ws.OPEN);
        expect(t.hub.services().gateway.isOnline(livelyDev.id)).toBe(true);
        lively.close();
        await lively.closed();
      }
      for (const r of runs) {
        expect(r.pings).toBe(MAX);
        // Not early: the drop comes maxMissedPongs intervals after the first ping at the least
        // (2 ms for the timers' rounding). One interval early would be 200 ms short.
        expect(r.connectToClose).toBeGreaterThanOrEqual(MAX * INTERVAL - 2);
        // Not late: a stall when the first ping arrives only makes this span shorter.
        expect(r.firstPingToClose).toBeLessThan(MAX * INTERVAL + INTERVAL / 2);
      }
      expect(t.hub.services().gateway.stats.disconnects.get('missed_pongs')).toBe(runs.length);
    } finally {
      await t.stop();
    }
  });

  it('a peer that answers late but before the next ping is kept', async () => {
    const t = await startTestHub({ timings: { pingIntervalMs: INTERVAL, maxMissedPongs: 2 } });
    try {
      const dev = await t.createDevice();
      const d = await RawDevice.connect(deviceUrl(t), {
        headers: { authorization: `Bearer ${dev.token}` },
        autoPong: false,
      });
      // Answers every ping after half an interval.
      d.ws.on('ping', () => setTimeout(() => d.ws.pong(), INTERVAL / 2));
      await d.answerGetInfo();
      await sleep(INTERVAL * 6);
      expect(d.ws.readyState).toBe(d.ws.OPEN);
      expect(t.hub.services().gateway.isOnline(dev.id)).toBe(true);
      d.close();
      await d.closed();
    } finally {
      await t.stop();
    }
  });
});
