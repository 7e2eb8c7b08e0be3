import { describe, expect, it } from 'vitest';
import Type from 'typebox';
import { parseWith, firstProblem } from '../../src/main/validate';
import { HubError } from '../../src/shared/errors';

describe('validate', () => {
  const S = Type.Object({ name: Type.String(), n: Type.Optional(Type.Integer()) });
  it('accepts a fitting value and returns it typed', () => {
    expect(parseWith(S, { name: 'x', n: 2 }).name).toBe('x');
  });
  it('names the bad field in a coded error', () => {
    expect(firstProblem(S, { name: 3 })).toContain('/name');
    try {
      parseWith(S, { name: 3 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HubError);
      expect((e as HubError).code).toBe(4002);
      expect((e as HubError).status).toBe(400);
    }
  });
});
