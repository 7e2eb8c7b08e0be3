import { describe, expect, it } from 'vitest';
import { ConsoleLineBuffer, PerDeviceRate } from '../../../src/main/crashes/console-lines';
import { parseBacktraceLine } from '../../../src/main/firmware/panic-backtrace';

const m = (seq: number | null, t: number | null = null) => ({ seq, t });

describe('ConsoleLineBuffer', () => {
  it('joins a backtrace split across Log frames and tags it with the frame that ended it', () => {
    const b = new ConsoleLineBuffer(4096);
    expect(b.push('d1', 'Backtrace: 0x400d1234:0x3ffb', m(7, 100))).toEqual([]);
    expect(b.push('d1', '1230 0x400d', m(8, 101))).toEqual([]);
    expect(b.push('d1', '0f69:0x3ffb1f70\nRebooting...\n', m(9, 102))).toEqual([
      { text: 'Backtrace: 0x400d1234:0x3ffb1230 0x400d0f69:0x3ffb1f70', seq: 9, t: 102 },
      { text: 'Rebooting...', seq: 9, t: 102 },
    ]);
    expect(b.hasPartial('d1')).toBe(false);
  });

  it('keeps each device its own partial line', () => {
    const b = new ConsoleLineBuffer(4096);
    b.push('a', 'Back', m(1));
    b.push('b', 'hello ', m(1));
    expect(b.push('a', 'trace: 0x1:0x2\n', m(2))).toEqual([
      { text: 'Backtrace: 0x1:0x2', seq: 2, t: null },
    ]);
    expect(b.push('b', 'world\r\n', m(2))).toEqual([{ text: 'hello world', seq: 2, t: null }]);
    expect(b.pending).toBe(0);
  });

  it('cuts a line at the limit and drops the rest up to the newline', () => {
    const b = new ConsoleLineBuffer(8);
    expect(b.push('d', '0123456', m(1))).toEqual([]);
    expect(b.push('d', '789abcdef', m(2))).toEqual([]);
    expect(b.push('d', 'xyz\nnext\n', m(3))).toEqual([
      { text: '01234567', seq: 3, t: null },
      { text: 'next', seq: 3, t: null },
    ]);
  });

  it('flushes a line that never got its newline, once', () => {
    const b = new ConsoleLineBuffer(4096);
    b.push('d', 'Backtrace: 0x400d1234:0x3ffb1230', m(4));
    expect(b.flush('d', m(4))).toEqual({
      text: 'Backtrace: 0x400d1234:0x3ffb1230',
      seq: 4,
      t: null,
    });
    expect(b.flush('d', m(4))).toBeNull();
  });
});

describe('parseBacktraceLine', () => {
  it('matches ESP-IDF backtrace lines, with a prefix and a corrupted tail', () => {
    expect(parseBacktraceLine('Backtrace: 0x400d1234:0x3ffb1230 0x400d0f69:0x3ffb1f70')).toEqual({
      frames: [
        { pc: 0x400d1234, sp: 0x3ffb1230 },
        { pc: 0x400d0f69, sp: 0x3ffb1f70 },
      ],
      corrupted: false,
    });
    const tail = parseBacktraceLine(
      '[12:00:01] Backtrace:0x400d1b37:0x3ffb1f50 0x00000000:0x3ffb1f70 |<-CORRUPTED',
    );
    expect(tail).toEqual({ frames: [{ pc: 0x400d1b37, sp: 0x3ffb1f50 }], corrupted: true });
  });

  it('ignores lines that are not a backtrace with a frame', () => {
    expect(parseBacktraceLine('I (312) app: Backtrace support enabled')).toBeNull();
    expect(parseBacktraceLine('Backtrace: 0x00000000:0x3ffb1f50')).toBeNull();
    expect(parseBacktraceLine('PC      : 0x400d1b3a  PS      : 0x00060730')).toBeNull();
  });
});

describe('PerDeviceRate', () => {
  it('allows N per minute per device and recovers when the window passes', () => {
    const r = new PerDeviceRate(2);
    expect(r.take('a', 0)).toBe(true);
    expect(r.take('a', 1000)).toBe(true);
    expect(r.take('a', 2000)).toBe(false);
    expect(r.take('b', 2000)).toBe(true);
    expect(r.take('a', 60_000)).toBe(true);
    expect(r.take('a', 60_001)).toBe(false);
    expect(r.take('a', 61_000)).toBe(true);
  });
});
