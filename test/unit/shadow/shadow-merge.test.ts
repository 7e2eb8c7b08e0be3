import { describe, expect, it } from 'vitest';
import { mergePatch } from '../../../src/main/shadow/shadow-merge';
import { cloneJson } from '../../../src/main/shadow/json-value';
import type { JsonObject } from '../../../src/shared/types';

describe('mergePatch (PROTOCOL.md 3)', () => {
  const cases: Array<{ name: string; target: JsonObject; patch: JsonObject; want: JsonObject }> = [
    { name: 'adds keys', target: { a: 1 }, patch: { b: 2 }, want: { a: 1, b: 2 } },
    {
      name: 'replaces scalars',
      target: { a: 1, b: 'x' },
      patch: { a: true },
      want: { a: true, b: 'x' },
    },
    {
      name: 'merges nested objects',
      target: { led: { on: false, color: 'red' }, x: 1 },
      patch: { led: { on: true } },
      want: { led: { on: true, color: 'red' }, x: 1 },
    },
    { name: 'null deletes a key', target: { a: 1, b: 2 }, patch: { a: null }, want: { b: 2 } },
    {
      name: 'nested null deletes a nested key',
      target: { led: { on: true, color: 'red' } },
      patch: { led: { color: null } },
      want: { led: { on: true } },
    },
    {
      name: 'an object emptied by deletions is removed',
      target: { led: { on: true }, x: 1 },
      patch: { led: { on: null } },
      want: { x: 1 },
    },
    {
      name: 'pruning goes up through every emptied level',
      target: { a: { b: { c: { d: 1 } } }, keep: 0 },
      patch: { a: { b: { c: { d: null } } } },
      want: { keep: 0 },
    },
    {
      name: 'pruning stops at the first level that keeps a key',
      target: { a: { b: { c: 1 }, k: 2 } },
      patch: { a: { b: { c: null } } },
      want: { a: { k: 2 } },
    },
    {
      name: 'deleting a missing key is a no-op',
      target: { a: 1 },
      patch: { zz: null },
      want: { a: 1 },
    },
    {
      name: 'deleting below a missing key leaves no empty object',
      target: { a: 1 },
      patch: { b: { c: null } },
      want: { a: 1 },
    },
    { name: 'a patch of {} adds nothing', target: { a: 1 }, patch: { b: {} }, want: { a: 1 } },
    { name: 'arrays replace whole', target: { l: [1, 2, 3] }, patch: { l: [9] }, want: { l: [9] } },
    {
      name: 'arrays keep their nulls and objects as given',
      target: {},
      patch: { l: [null, { a: null }, []] },
      want: { l: [null, { a: null }, []] },
    },
    {
      name: 'an object replaces an array',
      target: { l: [1] },
      patch: { l: { a: 1 } },
      want: { l: { a: 1 } },
    },
    {
      name: 'an array replaces an object',
      target: { o: { a: 1 } },
      patch: { o: [1] },
      want: { o: [1] },
    },
    {
      name: 'a scalar replaces an object',
      target: { o: { a: 1 } },
      patch: { o: 5 },
      want: { o: 5 },
    },
    {
      name: 'an object over a scalar drops the nulls inside it',
      target: { o: 5 },
      patch: { o: { a: 1, b: null } },
      want: { o: { a: 1 } },
    },
    {
      name: 'a new nested object is stored without its nulls',
      target: {},
      patch: { n: { a: { b: null }, c: 0 } },
      want: { n: { c: 0 } },
    },
    {
      name: 'false, 0 and "" are values, not deletions',
      target: { a: 1, b: 1, c: 1 },
      patch: { a: false, b: 0, c: '' },
      want: { a: false, b: 0, c: '' },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const target = structuredClone(c.target);
      const patch = structuredClone(c.patch);
      expect(mergePatch(target, patch)).toEqual(c.want);
      // Never mutates inputs.
      expect(target).toEqual(c.target);
      expect(patch).toEqual(c.patch);
    });
  }

  it('returns a result that shares nothing with its inputs', () => {
    const target: JsonObject = { keep: { deep: [1] } };
    const patch: JsonObject = { added: { list: [1, 2] } };
    const out = mergePatch(target, patch);
    (out['keep'] as { deep: number[] }).deep.push(2);
    (out['added'] as { list: number[] }).list.push(3);
    expect(target).toEqual({ keep: { deep: [1] } });
    expect(patch).toEqual({ added: { list: [1, 2] } });
  });

  it('treats __proto__ as an ordinary key and never touches prototypes', () => {
    const patch = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as JsonObject;
    const out = mergePatch({}, patch);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":true},"a":1}');
    const removed = mergePatch(out, JSON.parse('{"__proto__":null}') as JsonObject);
    expect(JSON.stringify(removed)).toBe('{"a":1}');
  });

  it('stores keys named like Object.prototype members as own data (setOwn by assignment)', () => {
    const text = '{"constructor":{"x":1},"toString":2,"hasOwnProperty":[3],"valueOf":null,"b":4}';
    const out = mergePatch({ valueOf: 5 }, JSON.parse(text) as JsonObject);
    expect(JSON.stringify(out)).toBe(
      '{"constructor":{"x":1},"toString":2,"hasOwnProperty":[3],"b":4}',
    );
    expect(Object.keys(out)).toEqual(['constructor', 'toString', 'hasOwnProperty', 'b']);
    expect(Object.prototype.toString).toBeTypeOf('function');
    expect(JSON.stringify(cloneJson(out))).toBe(JSON.stringify(out));
  });
});
