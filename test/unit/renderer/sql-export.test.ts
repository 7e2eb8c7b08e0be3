import { describe, expect, it } from 'vitest';
import { toCsv, toJsonRows, toJsonText } from '../../../src/renderer/lib/sql-export';
import { readSqlResult } from '../../../src/renderer/lib/sql-result';

describe('sql-export', () => {
  it('writes RFC 4180 CSV: quotes what needs it, doubles quotes, empty for NULL, CRLF', () => {
    const csv = toCsv({
      columns: ['id', 'message', 'n'],
      rows: [
        ['d1', '{"a":1,"b":"x"}', 1.5],
        ['d,2', 'line\nbreak', null],
      ],
    });
    expect(csv).toBe('id,message,n\r\nd1,"{""a"":1,""b"":""x""}",1.5\r\n"d,2","line\nbreak",\r\n');
  });

  it('writes JSON as one object per row; a repeated column name gets a suffix', () => {
    const r = { columns: ['a', 'a', 'b'], rows: [[1, 2, null]] };
    expect(toJsonRows(r)).toEqual([{ a: 1, a_2: 2, b: null }]);
    expect(JSON.parse(toJsonText(r))).toEqual([{ a: 1, a_2: 2, b: null }]);
  });

  it('checks the hub answer shape', () => {
    expect(readSqlResult({ columns: ['a'], rows: [[1]] })).toEqual({
      columns: ['a'],
      rows: [[1]],
      truncated: false,
    });
    expect(readSqlResult({ columns: ['a'], rows: [], truncated: true })?.truncated).toBe(true);
    for (const bad of [null, [], { columns: [1], rows: [] }, { columns: [], rows: [1] }, {}])
      expect(readSqlResult(bad)).toBeNull();
  });
});
