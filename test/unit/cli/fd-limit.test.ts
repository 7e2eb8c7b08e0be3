/**
 * The pure part of the `serve --demo` file-limit check (src/main/cli/fd-limit.ts), at its edge.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_FD_RESERVE, DEMO_FDS_PER_DEVICE } from '../../../src/main/config';
import { checkDemoFds, demoFdNeed, parseFdLimits } from '../../../src/main/cli/fd-limit';

describe('demo file-limit check', () => {
  it('needs one descriptor per device (its devices run in a child) plus the reserve', () => {
    expect(DEMO_FDS_PER_DEVICE).toBe(1);
    expect(demoFdNeed(1000, 30)).toBe(30 + 1000 + DEMO_FD_RESERVE);
    // 10,000 devices fit under the 20,000 hard limit of this kind of machine.
    expect(demoFdNeed(10_000, 100)).toBeLessThan(20_000);
  });

  it('accepts a demo that fits exactly and refuses one descriptor more, with the numbers', () => {
    const need = demoFdNeed(10_000, 40);
    expect(checkDemoFds(10_000, 40, need)).toEqual({ ok: true, need, limit: need });
    const refused = checkDemoFds(10_000, 40, need - 1);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.message).toContain(`a demo of 10000 devices needs ~${need} file descriptors`);
    expect(refused.message).toContain(`the file limit is ${need - 1}`);
    expect(refused.message).toContain(`ulimit -n ${need}`);
  });

  it('reads the open-files row of /proc/<pid>/limits', () => {
    const text = [
      'Limit                     Soft Limit           Hard Limit           Units',
      'Max processes             63455                63455                processes',
      'Max open files            1024                 524288               files',
    ].join('\n');
    expect(parseFdLimits(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(
      parseFdLimits('Max open files            unlimited            unlimited            files'),
    ).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseFdLimits('nothing here')).toBeNull();
  });
});
