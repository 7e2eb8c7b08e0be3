/**
 * The latency probe shared by bench/ota-concurrent.ts and bench/backup.ts: callers back to back
 * until stopped, latencies of the 200s, everything else (another status, a failure) an error.
 */
import { describe, expect, it } from 'vitest';
import { startProbe } from '../../../bench/latency-probe';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

describe('bench latency probe', () => {
  it('records the 200s and counts other statuses and failures as errors', async () => {
    let k = 0;
    const probe = startProbe(3, async () => {
      await tick();
      const n = k++;
      if (n % 3 === 1) return 503;
      if (n % 3 === 2) throw new Error('ECONNRESET');
      return 200;
    });
    await new Promise((r) => setTimeout(r, 50));
    const { lat, errors } = await probe.stop();
    expect(lat.count).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
    // Every call that ended is one or the other, and the callers stopped with stop().
    expect(lat.count + errors).toBe(k);
    const after = k;
    await new Promise((r) => setTimeout(r, 20));
    expect(k).toBe(after);
  });

  it('runs `clients` calls at once', async () => {
    let inFlight = 0;
    let most = 0;
    const probe = startProbe(4, async () => {
      most = Math.max(most, ++inFlight);
      await tick();
      inFlight--;
      return 200;
    });
    await new Promise((r) => setTimeout(r, 20));
    await probe.stop();
    expect(most).toBe(4);
  });
});
