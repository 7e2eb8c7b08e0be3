/**
 * Setup shared by the tests that run the real `fleetbench` CLI against the simulators: a temp dir
 * for the file's lifetime, the cleanup stack, and ESP32 simulators closed after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { useCleanups, type Cleanups } from './cleanups';
import { startSim, type SimRig } from './esp32-sim-harness';

// Run the TypeScript sources even when a build exists, so the test sees this checkout's code.
export const CLI_ENV = { FLEETBENCH_FROM_SOURCE: '1' };

export interface CliFixture {
  readonly cleanups: Cleanups;
  /** The temp dir (set once the file's tests start). */
  readonly dir: string;
  sim(opts?: Parameters<typeof startSim>[0]): Promise<SimRig>;
}

/** Call at the top level of a test file; `prefix` names the temp dir. */
export function useCliFixture(prefix: string): CliFixture {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cleanups = useCleanups();
  return {
    cleanups,
    get dir() {
      return dir;
    },
    async sim(opts = {}) {
      const rig = await startSim(opts);
      cleanups.push(() => rig.close());
      return rig;
    },
  };
}
