/**
 * Shared set-up for the STM32 flasher integration suites: a real socat pty pair with the
 * bootloader simulator on one end, our flasher on the other (FLASHING.md 7).
 */
import { randomBytes } from 'node:crypto';
import { SerialPort } from 'serialport';
import MemoryMap from 'nrf-intel-hex';
import type { FlashState } from '../../../../src/shared/flash-state';
import type { Stm32FlashTuning } from '../../../../src/main/flasher/stm32/flash-stm32';
import { openPtyPair, type PtyPair } from '../../../support/pty-pair';
import { Stm32Sim, type Stm32SimOptions } from '../../../support/stm32-sim';

/** Short timeouts so failure paths take well under a second each. */
export const FAST: Stm32FlashTuning = {
  timeouts: { replyMs: 400, initMs: 250, writeMs: 400, erasePageMs: 400, massEraseMs: 1500 },
  initAttempts: 2,
};

export interface Bench {
  pair: PtyPair;
  sim: Stm32Sim;
  states: FlashState[];
  report: (s: FlashState) => void;
  close(): Promise<void>;
}

export async function openBench(opts: Omit<Stm32SimOptions, 'path'> = {}): Promise<Bench> {
  const pair = await openPtyPair();
  const sim = new Stm32Sim({ path: pair.a, ...opts });
  // Simulator first: a pty buffers what is written while the other end is closed (FLASHING.md 5).
  await sim.start();
  const states: FlashState[] = [];
  return {
    pair,
    sim,
    states,
    report: (s) => states.push(s),
    async close() {
      await sim.stop();
      await pair.close();
    },
  };
}

export function image(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size));
}

export function hexOf(address: number, data: Uint8Array): string {
  return new MemoryMap([[address, data]]).asHexString();
}

/** Resolves if nobody holds the port: serialport locks it with flock while open. */
export async function portIsFree(path: string): Promise<boolean> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  const opened = await new Promise<boolean>((resolve) => port.open((e) => resolve(!e)));
  if (opened) await new Promise<void>((resolve) => port.close(() => resolve()));
  return opened;
}

/** The state names in order, with runs of `writing` collapsed to one. */
export function stateNames(states: readonly FlashState[]): string[] {
  const out: string[] = [];
  for (const s of states) if (out.at(-1) !== s.state || s.state !== 'writing') out.push(s.state);
  return out;
}
