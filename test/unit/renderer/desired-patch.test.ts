import { describe, expect, it } from 'vitest';
import { desiredPatch } from '../../../src/renderer/lib/desired-patch';

describe('desiredPatch', () => {
  it('sends changed and new keys only', () => {
    expect(desiredPatch({ a: 1, b: 2 }, { a: 1, b: 3, c: 4 })).toEqual({ b: 3, c: 4 });
  });

  it('turns removed keys into nulls (PROTOCOL.md 3: null deletes)', () => {
    expect(desiredPatch({ a: 1, b: { c: 1, d: 2 } }, { b: { c: 1 } })).toEqual({
      a: null,
      b: { d: null },
    });
  });

  it('sends arrays and type changes whole', () => {
    expect(desiredPatch({ l: [1, 2] }, { l: [1, 2, 3] })).toEqual({ l: [1, 2, 3] });
    expect(desiredPatch({ l: [1] }, { l: [1] })).toEqual({});
    expect(desiredPatch({ x: { y: 1 } }, { x: 5 })).toEqual({ x: 5 });
    expect(desiredPatch({ x: 5 }, { x: { y: 1 } })).toEqual({ x: { y: 1 } });
  });

  it('empties a nested object by deleting its keys', () => {
    expect(desiredPatch({ x: { y: 1, z: 2 } }, { x: {} })).toEqual({ x: { y: null, z: null } });
  });

  it('is empty when nothing changed', () => {
    expect(desiredPatch({ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2 }] } })).toEqual({});
  });
});
