/**
 * Many concurrent OTA jobs of one image (issue 8: "100 concurrent jobs must not hold 100 copies
 * of the image in memory"): each job streams the file through two 32 KB block buffers, so the
 * hub's heap plus buffers grow far less than jobs x image size while they all send.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/hub-harness';
import { appImage, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

const JOBS = 20;
const IMAGE = 1024 * 1024;

// Garbage is not what this test is about: collect it before each measurement.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Live heap plus Buffers after a full collection. */
const retained = (): number => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('OTA memory', () => {
  it(`${JOBS} concurrent jobs of a 1 MB image do not hold ${JOBS} copies`, async () => {
    rig = await otaRig({
      ota: { maxConcurrent: JOBS },
      timings: { rateLimitDisconnectMs: 60_000 },
    });
    const ids = Array.from({ length: JOBS }, (_, i) => `m${i}`);
    for (const id of ids) await rig.addDevice(id, 'arduino');
    const fw = await rig.addFirmware(appImage(8, IMAGE), 'app.bin');
    const baseline = retained();
    const ota = rig.t.hub.services().ota;
    // wait=0: a waiting POST holds one of its key's upload slots (limits.maxUploadsPerKey).
    const started = await Promise.all(ids.map((id) => rig!.send(id, fw.id, '?wait=0')));
    // Measured while every job is half way: each has its reader open and writes in flight.
    await waitFor(
      () => started.every((s) => ota.get(s.body.id).bytes >= IMAGE / 2),
      60_000,
      'all jobs half way',
    );
    const peak = retained();
    const jobs = await Promise.all(
      started.map((s) => rig!.waitJob(s.body.id, (j) => j.ended !== null, 60_000)),
    );
    expect(jobs.map((j) => [j.state, j.error?.message ?? ''])).toEqual(ids.map(() => ['done', '']));
    const grewMb = (peak - baseline) / 1024 / 1024;
    console.log(
      `retained heap+buffers growth half way through ${JOBS} x 1 MB OTA: ${grewMb.toFixed(1)} MB`,
    );
    // Holding a copy per job would be >= 20 MB; the simulated devices share this process too.
    expect(grewMb).toBeLessThan((JOBS * IMAGE) / 1024 / 1024 / 2);
  }, 120_000);
});

describe('OTA writes in flight across the hub', () => {
  it('maxInflightWrites 1: concurrent transfers take turns, one write at a time, all done', async () => {
    rig = await otaRig({
      ota: { maxConcurrent: 4, maxInflightWrites: 1 },
      timings: { rateLimitDisconnectMs: 60_000 },
    });
    const ids = ['g0', 'g1', 'g2', 'g3'];
    for (const id of ids) await rig.addDevice(id, 'arduino');
    const fw = await rig.addFirmware(appImage(9, 64 * 1024), 'app.bin');
    const ota = rig.t.hub.services().ota;
    const gate = ota.writeGate;
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, gate.inFlight)), 1);
    try {
      const started = await Promise.all(ids.map((id) => rig!.send(id, fw.id, '?wait=0')));
      const jobs = await Promise.all(
        started.map((s) => rig!.waitJob(s.body.id, (j) => j.ended !== null, 60_000)),
      );
      expect(jobs.map((j) => j.state)).toEqual(ids.map(() => 'done'));
    } finally {
      clearInterval(sample);
    }
    expect(gate.max).toBe(1);
    expect(most).toBeLessThanOrEqual(1);
    // They competed: slots were handed from one transfer to the next.
    expect(gate.handoffs).toBeGreaterThan(0);
    expect(gate.inFlight).toBe(0);
  }, 60_000);
});
