import { describe, expect, it } from 'vitest';
import { parseSpool, parseSpoolLine } from '../../../src/main/data/spool-lines';

describe('spool line parser (PROTOCOL.md 5)', () => {
  it('reads "<query-name> <json array>" lines', () => {
    expect(parseSpoolLine('q1 [1,"a",null,{"x":1}]')).toEqual({
      name: 'q1',
      params: [1, 'a', null, { x: 1 }],
    });
    // JSON may contain spaces after the first one.
    expect(parseSpoolLine('q [1, "a b"]')).toEqual({ name: 'q', params: [1, 'a b'] });
    expect(parseSpoolLine('q []\r')).toEqual({ name: 'q', params: [] });
  });

  it('names what is wrong with a malformed line', () => {
    expect(parseSpoolLine('noparams')).toMatch(/expected/);
    expect(parseSpoolLine(' [1]')).toMatch(/expected/);
    expect(parseSpoolLine('q [1,')).toMatch(/not valid JSON/);
    expect(parseSpoolLine('q {"a":1}')).toMatch(/not a JSON array/);
    expect(parseSpoolLine('q 5')).toMatch(/not a JSON array/);
  });

  it('keeps good lines around bad ones, with line numbers, and ignores empty lines', () => {
    const text = 'a [1]\ngarbage\n\nb [2,3]\nc {oops\nd ["x"]\n';
    const r = parseSpool(text);
    expect(r.records).toEqual([
      { line: 1, name: 'a', params: [1] },
      { line: 4, name: 'b', params: [2, 3] },
      { line: 6, name: 'd', params: ['x'] },
    ]);
    expect(r.bad.map((b) => b.line)).toEqual([2, 5]);
  });

  it('reports an unterminated last line as malformed (a cut-off write)', () => {
    const r = parseSpool('a [1]\nb [2]');
    expect(r.records).toHaveLength(1);
    expect(r.bad).toEqual([{ line: 2, reason: 'incomplete last line', text: 'b [2]' }]);
    expect(parseSpool('')).toEqual({ records: [], bad: [] });
  });
});
