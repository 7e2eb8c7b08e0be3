import { describe, expect, it } from 'vitest';
import { hasFaults } from '../../../src/main/sim/sim-command';
import { fleetFamily } from '../../../src/main/sim/sim-fleet';

describe('fleet options', () => {
  it("'mixed' alternates the families; a single family is kept", () => {
    expect([0, 1, 2, 3].map((i) => fleetFamily('mixed', i))).toEqual([
      'mos',
      'arduino',
      'mos',
      'arduino',
    ]);
    expect(fleetFamily('arduino', 0)).toBe('arduino');
    expect(fleetFamily('mos', 1)).toBe('mos');
  });

  it('hasFaults spreads a share evenly and gives exactly that many devices', () => {
    const pick = (n: number, share: number): number[] =>
      Array.from({ length: n }, (_, i) => i).filter((i) => hasFaults(i, share));
    expect(pick(8, 0.25)).toEqual([3, 7]);
    expect(pick(30, 0.1)).toHaveLength(3);
    expect(pick(1000, 0.05)).toHaveLength(50);
    expect(pick(10, 0)).toEqual([]);
    expect(pick(10, 1)).toHaveLength(10);
  });
});
