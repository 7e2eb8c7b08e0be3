import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../../src/main/flasher/monitor/line-splitter';
import { Scrollback } from '../../../../src/main/flasher/monitor/scrollback';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('LineSplitter', () => {
  it('splits on \\n, strips \\r and keeps partial lines', () => {
    const s = new LineSplitter();
    expect(s.push(b('one\r\ntwo\nthr'))).toEqual(['one', 'two']);
    expect(s.hasPartial).toBe(true);
    expect(s.push(b('ee\r\n'))).toEqual(['three']);
    expect(s.flushPartial()).toBeNull();
  });

  it('flushes a prompt without newline on demand', () => {
    const s = new LineSplitter();
    expect(s.push(b('mos> '))).toEqual([]);
    expect(s.flushPartial()).toBe('mos> ');
    expect(s.hasPartial).toBe(false);
  });

  it('does not mangle a UTF-8 character split across reads', () => {
    const s = new LineSplitter();
    const bytes = b('température 25°C\n');
    const cut = bytes.indexOf(0xc2); // first byte of °
    expect(s.push(bytes.subarray(0, cut + 1))).toEqual([]);
    expect(s.push(bytes.subarray(cut + 1))).toEqual(['température 25°C']);
  });

  it('caps runaway lines', () => {
    const s = new LineSplitter(10);
    const out = s.push(b('x'.repeat(35)));
    expect(out).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(10)]);
    expect(s.flushPartial()).toBe('xxxxx');
    expect(s.push(b('y'.repeat(25) + '\n'))).toEqual([
      'y'.repeat(10),
      'y'.repeat(10),
      'y'.repeat(5),
    ]);
  });
});

describe('Scrollback', () => {
  it('keeps the last N bytes in order across wrap-around', () => {
    const r = new Scrollback(8);
    r.push(b('abc'));
    expect(r.read().toString()).toBe('abc');
    r.push(b('defgh'));
    expect(r.read().toString()).toBe('abcdefgh');
    r.push(b('ij'));
    expect(r.read().toString()).toBe('cdefghij');
    r.push(b('klmnopqrstuv'));
    expect(r.read().toString()).toBe('opqrstuv');
    expect(r.size).toBe(8);
    expect(r.totalBytes).toBe(22);
  });

  it('matches a naive model for random pushes', () => {
    const r = new Scrollback(37);
    let model = Buffer.alloc(0);
    let seed = 7;
    for (let n = 0; n < 500; n++) {
      seed = (seed * 48271) % 2147483647;
      const len = seed % 50;
      const chunk = Buffer.alloc(len, n & 0xff);
      r.push(chunk);
      model = Buffer.concat([model, chunk]).subarray(-37);
      expect(r.read().equals(model)).toBe(true);
    }
  });

  it('rejects a nonsense capacity', () => {
    expect(() => new Scrollback(0)).toThrow(RangeError);
  });
});
