import { describe, expect, it } from 'vitest';
import {
  findJsonProblem,
  lineColumn,
  parseJson,
  parseJsonObject,
  parseParams,
  prettyJson,
} from '../../../src/renderer/lib/json-text';

describe('json-text', () => {
  it('parses objects for the desired editor and refuses other JSON', () => {
    expect(parseJsonObject('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    for (const text of ['[1]', '3', '"x"', 'null']) {
      const r = parseJsonObject(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain('JSON object');
    }
  });

  it('points at the line and column of a syntax error', () => {
    const r = parseJson('{\n  "a": 1,\n  "b": tru\n}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe('unexpected "\\n", expected "true" at line 3, column 11');
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });

  it('locates the first bad character of many kinds of broken JSON', () => {
    const cases: [string, number, RegExp][] = [
      ['', 0, /end of input/],
      ['{', 1, /end of input, expected a property name/],
      ["{'a': 1}", 1, /property name in double quotes/],
      ['{"a" 1}', 5, /expected ':'/],
      ['{"a": 1,}', 8, /property name/],
      ['[1 2]', 3, /',' or ']'/],
      ['[1,]', 3, /expected a value/],
      ['{"a": 01}', 7, /',' or '}'/],
      ['"abc', 4, /closing quote/],
      ['"a\\x"', 3, /escape/],
      ['"\\u12G4"', 3, /hex/],
      ['{"a": 1} x', 9, /end of input/],
      ['nul', 3, /"null"/],
      ['-', 0, /a value/],
    ];
    for (const [text, offset, message] of cases) {
      expect(() => JSON.parse(text)).toThrow();
      const p = findJsonProblem(text);
      expect({ text, offset: p.offset }).toEqual({ text, offset });
      expect(p.message).toMatch(message);
    }
  });

  it('finds a problem in every single-character corruption that JSON.parse rejects', () => {
    const good = JSON.stringify(
      { a: [1, -2.5e3, 'x\n\u00e9', true, null], b: { c: false } },
      null,
      1,
    );
    const junk = ['}', ']', '"', ',', ':', 'x', '\\', ' '];
    for (let i = 0; i < good.length; i++) {
      for (const j of junk) {
        const text = good.slice(0, i) + j + good.slice(i + 1);
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        if (valid) continue;
        const p = findJsonProblem(text);
        expect(p.message, text).not.toBe('invalid JSON');
        expect(p.offset).toBeLessThanOrEqual(text.length);
      }
    }
  });

  it('treats empty RPC params as none and accepts any JSON value otherwise', () => {
    expect(parseParams('  ')).toEqual({ ok: true, value: undefined });
    expect(parseParams('[1,"a"]')).toEqual({ ok: true, value: [1, 'a'] });
    expect(parseParams('{').ok).toBe(false);
  });

  it('pretty-prints', () => {
    expect(prettyJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(prettyJson(undefined)).toBe('');
  });
});
