import { describe, expect, it } from 'vitest';
import { SimFs } from '../../../src/main/sim/sim-fs';
import {
  SPOOL_FILE,
  SPOOL_LIMIT_BYTES,
  SPOOL_OLD_FILE,
  spoolAppend,
  spoolLine,
} from '../../../src/main/sim/sim-spool';

describe('spool (mDashStore)', () => {
  it('writes `<query> <json array>\\n` lines', () => {
    const fs = new SimFs();
    expect(spoolAppend(fs, 'ins', [1, 'a b', { x: null }])).toEqual({
      stored: true,
      rotated: false,
    });
    expect(spoolAppend(fs, 'ins', ['line\nbreak'])).toEqual({ stored: true, rotated: false });
    expect(fs.read(SPOOL_FILE)?.toString()).toBe(
      'ins [1,"a b",{"x":null}]\nins ["line\\nbreak"]\n',
    );
  });

  it('rotates to mdash.unsent.old on the append that passes 32 KB', () => {
    const fs = new SimFs();
    const line = spoolLine('q', ['x'.repeat(90)]);
    const perFile = Math.floor(SPOOL_LIMIT_BYTES / line.length); // lines that fit without passing
    for (let i = 0; i < perFile; i++)
      expect(spoolAppend(fs, 'q', ['x'.repeat(90)]).rotated).toBe(false);
    expect(fs.size(SPOOL_FILE)).toBe(perFile * line.length);
    expect(fs.size(SPOOL_FILE)).toBeLessThanOrEqual(SPOOL_LIMIT_BYTES);
    expect(fs.has(SPOOL_OLD_FILE)).toBe(false);

    expect(spoolAppend(fs, 'q', ['x'.repeat(90)]).rotated).toBe(true);
    expect(fs.has(SPOOL_FILE)).toBe(false);
    expect(fs.size(SPOOL_OLD_FILE)).toBe((perFile + 1) * line.length);
    // Only whole lines move: the old file ends with a newline.
    expect(fs.read(SPOOL_OLD_FILE)?.toString().endsWith('\n')).toBe(true);

    spoolAppend(fs, 'q', ['next']);
    expect(fs.read(SPOOL_FILE)?.toString()).toBe('q ["next"]\n');
  });

  it('a second rotation replaces the older file', () => {
    const fs = new SimFs();
    const big = 'y'.repeat(20_000);
    spoolAppend(fs, 'first', [big]);
    expect(spoolAppend(fs, 'first', [big]).rotated).toBe(true);
    spoolAppend(fs, 'second', [big]);
    expect(spoolAppend(fs, 'second', [big]).rotated).toBe(true);
    expect(fs.read(SPOOL_OLD_FILE)?.toString().startsWith('second ')).toBe(true);
  });

  it('refuses multi-line queries and reports a full flash as not stored', () => {
    expect(() => spoolLine('a\nb', [])).toThrow(/single line/);
    const fs = new SimFs({}, { capacityBytes: 16 });
    expect(spoolAppend(fs, 'q', ['this is too long'])).toEqual({ stored: false, rotated: false });
    expect(fs.list()).toEqual([]);
  });
});
