import { describe, expect, it } from 'vitest';
import { heapGrowingChosen, heapGrowingFlag } from '../../../src/main/cli/heap-tuning';
import { SERVE_HEAP_GROWING_PERCENT } from '../../../src/main/config';

describe('heap growing factor of `fleetbench serve` (issue 11: RSS per device)', () => {
  it("keeps V8's own factor by default, and sets a configured percent", () => {
    expect(SERVE_HEAP_GROWING_PERCENT).toBe(0);
    expect(heapGrowingFlag(SERVE_HEAP_GROWING_PERCENT, [])).toBeNull();
    expect(heapGrowingFlag(20, [])).toBe('--heap-growing-percent=20');
    expect(heapGrowingFlag(35, ['--enable-source-maps'])).toBe('--heap-growing-percent=35');
  });

  it('knows when the process was started with its own factor (the storm mode then stays off)', () => {
    expect(heapGrowingChosen(['--heap-growing-percent=50'])).toBe(true);
    expect(heapGrowingChosen(['--enable-source-maps'])).toBe(false);
    expect(heapGrowingChosen([])).toBe(false);
  });

  it("keeps V8's default for 0 or nonsense, and the user's own flag when the process has one", () => {
    expect(heapGrowingFlag(0, [])).toBeNull();
    expect(heapGrowingFlag(-5, [])).toBeNull();
    expect(heapGrowingFlag(12.5, [])).toBeNull();
    expect(heapGrowingFlag(20, ['--heap-growing-percent=50'])).toBeNull();
  });
});
