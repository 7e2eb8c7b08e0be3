/**
 * `fleetbench sim` options are bounded integers: a delay past what a Node timer takes would fire
 * at once, and a seed past 2^53 is not exact.
 */
import { describe, expect, it } from 'vitest';
import { SimCommandSchema } from '../../../src/main/sim/sim-command';
import { firstProblem } from '../../../src/main/validate';

const base = { url: 'ws://127.0.0.1:1/api/v2/rpc', count: 1 };
const MAX_TIMER_MS = 2_147_483_647;

describe('SimCommandSchema integer ranges', () => {
  for (const field of [
    'shadowIntervalMs',
    'logIntervalMs',
    'progressIntervalMs',
    'requestTimeoutMs',
    'otaRebootDelayMs',
    'bootTimeMs',
  ]) {
    it(`${field}: at most ${MAX_TIMER_MS} ms`, () => {
      expect(firstProblem(SimCommandSchema, { ...base, [field]: MAX_TIMER_MS })).toBeNull();
      expect(firstProblem(SimCommandSchema, { ...base, [field]: MAX_TIMER_MS + 1 })).toContain(
        field,
      );
    });
  }

  it('seed: a safe integer', () => {
    expect(firstProblem(SimCommandSchema, { ...base, seed: -Number.MAX_SAFE_INTEGER })).toBeNull();
    expect(firstProblem(SimCommandSchema, { ...base, seed: 2 ** 53 })).toContain('seed');
  });
});
