/**
 * Test plumbing around the ESP32 simulator: a socat pty pair with the simulator on one end,
 * firmware-like images, and a check that a port was really released.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { openPtyPair, type PtyPair } from './pty-pair';
import { Esp32Sim, type Esp32SimOptions } from './esp32-sim';

export interface SimRig {
  pair: PtyPair;
  sim: Esp32Sim;
  /** The flasher's end of the line. */
  host: string;
  /** The device node behind `host` (stays valid for fd checks after socat is gone). */
  hostDevice: string;
  close(): Promise<void>;
}

export async function startSim(options: Omit<Esp32SimOptions, 'path'> = {}): Promise<SimRig> {
  const pair = await openPtyPair();
  const sim = new Esp32Sim({ ...options, path: pair.a });
  try {
    await sim.start();
  } catch (err) {
    await pair.close();
    throw err;
  }
  return {
    pair,
    sim,
    host: pair.b,
    hostDevice: realpathSync(pair.b),
    async close() {
      await sim.stop();
      await pair.close();
    },
  };
}

/** File descriptors this process holds on `device` (a released port has none). */
export function fdsOpenOn(device: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === device) count++;
    } catch {
      // The fd closed while we looked.
    }
  }
  return count;
}

/**
 * Bytes that compress about like real firmware (~3.5:1 with zlib -9): 16 random bytes in every 64.
 * Byte 0 is not 0xE9, so the image is not mistaken for an ESP-IDF image built for another chip.
 */
export function firmwareLike(size: number): Buffer {
  const img = Buffer.alloc(size);
  for (let i = 0; i < size; i += 64) randomBytes(16).copy(img, i);
  img[0] = 0x00;
  return img;
}

/** Incompressible bytes (worst case for the wire). */
export function randomImage(size: number): Buffer {
  const img = randomBytes(size);
  img[0] = 0x00;
  return img;
}
