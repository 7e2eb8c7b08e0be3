import { describe, expect, it } from 'vitest';
import { computeDelta } from '../../../src/main/shadow/shadow-delta';
import type { JsonObject } from '../../../src/shared/types';

describe('computeDelta (PROTOCOL.md 3)', () => {
  const cases: Array<{
    name: string;
    desired: JsonObject;
    reported: JsonObject;
    want: JsonObject;
  }> = [
    { name: 'nothing desired, no delta', desired: {}, reported: { a: 1 }, want: {} },
    {
      name: 'equal values give no delta',
      desired: { a: 1, s: 'x', b: false },
      reported: { a: 1, s: 'x', b: false },
      want: {},
    },
    { name: 'a differing scalar', desired: { a: 2 }, reported: { a: 1 }, want: { a: 2 } },
    { name: 'a key missing in reported', desired: { a: 1 }, reported: {}, want: { a: 1 } },
    {
      name: 'extra reported keys are ignored',
      desired: { a: 1 },
      reported: { a: 1, b: 2 },
      want: {},
    },
    {
      name: 'scalar types differ: 1 vs "1"',
      desired: { a: 1 },
      reported: { a: '1' },
      want: { a: 1 },
    },
    { name: 'false vs 0', desired: { a: false }, reported: { a: 0 }, want: { a: false } },
    {
      name: 'nested: only the differing leaves',
      desired: { led: { on: true, color: 'red' }, fan: { speed: 3 } },
      reported: { led: { on: false, color: 'red' }, fan: { speed: 3 } },
      want: { led: { on: true } },
    },
    {
      name: 'deeply nested leaf',
      desired: { a: { b: { c: { d: 1, e: 2 } } } },
      reported: { a: { b: { c: { d: 1, e: 3 } } } },
      want: { a: { b: { c: { e: 2 } } } },
    },
    {
      name: 'equal arrays give no delta',
      desired: { l: [1, { a: [2] }] },
      reported: { l: [1, { a: [2] }] },
      want: {},
    },
    {
      name: 'arrays compare whole',
      desired: { l: [1, 2, 3] },
      reported: { l: [1, 2] },
      want: { l: [1, 2, 3] },
    },
    {
      name: 'array order matters',
      desired: { l: [1, 2] },
      reported: { l: [2, 1] },
      want: { l: [1, 2] },
    },
    {
      name: 'objects inside arrays compare deeply, key order ignored',
      desired: { l: [{ a: 1, b: 2 }] },
      reported: { l: [{ b: 2, a: 1 }] },
      want: {},
    },
    {
      name: 'desired object vs reported scalar: the whole desired subtree',
      desired: { led: { on: true, color: 'red' } },
      reported: { led: 'broken' },
      want: { led: { on: true, color: 'red' } },
    },
    {
      name: 'desired object vs reported array: the whole desired subtree',
      desired: { led: { on: true } },
      reported: { led: [true] },
      want: { led: { on: true } },
    },
    {
      name: 'desired object vs reported missing: the whole desired subtree',
      desired: { led: { on: true, rgb: [1, 2, 3] } },
      reported: {},
      want: { led: { on: true, rgb: [1, 2, 3] } },
    },
    {
      name: 'desired scalar vs reported object',
      desired: { led: 1 },
      reported: { led: { on: true } },
      want: { led: 1 },
    },
    {
      name: 'desired array vs reported object',
      desired: { l: [] },
      reported: { l: {} },
      want: { l: [] },
    },
    {
      name: 'desired null vs reported missing',
      desired: { a: null },
      reported: {},
      want: { a: null },
    },
    {
      name: 'desired null vs reported null',
      desired: { a: null },
      reported: { a: null },
      want: {},
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const desired = structuredClone(c.desired);
      const reported = structuredClone(c.reported);
      expect(computeDelta(desired, reported)).toEqual(c.want);
      expect(desired).toEqual(c.desired);
      expect(reported).toEqual(c.reported);
    });
  }

  it('returns copies, not references into desired', () => {
    const desired: JsonObject = { led: { on: true }, l: [1] };
    const delta = computeDelta(desired, {});
    (delta['led'] as { on: boolean }).on = false;
    (delta['l'] as number[]).push(2);
    expect(desired).toEqual({ led: { on: true }, l: [1] });
  });

  it('does not read inherited members as reported values', () => {
    // "constructor" and "toString" exist on every object's prototype; they are not reported.
    expect(computeDelta({ constructor: 1, toString: { a: 1 } }, {})).toEqual({
      constructor: 1,
      toString: { a: 1 },
    });
  });
});
