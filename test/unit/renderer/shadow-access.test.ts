import { describe, expect, it } from 'vitest';
import { shadowAccess } from '../../../src/renderer/lib/shadow-access';

const shadow = {
  state: {
    desired: { on: true },
    reported: { on: false, 'a.b': 1, ota: { id: 'x' }, list: [1, 2] },
  },
  tags: {},
  version: 3,
};

describe('ACL preview (PROTOCOL.md 8 leaf paths, the shared core)', () => {
  it('marks every leaf readable / writable, a reported leaf through its desired twin', () => {
    const a = shadowAccess(shadow, {
      public_key: 'k',
      shadow_read: '^\\.state\\.reported\\.',
      shadow_write: ['^\\.state\\.desired\\.on$'],
    });
    expect(a.off).toBe(false);
    expect(a.problems).toEqual([]);
    const by = Object.fromEntries(a.leaves.map((l) => [l.path, l]));
    expect(Object.keys(by)).toEqual([
      '.state.desired.on',
      '.state.reported.on',
      '.state.reported.a.b',
      '.state.reported.ota.id',
      '.state.reported.list',
      '.tags',
      '.version',
    ]);
    expect(by['.state.desired.on']).toMatchObject({ read: false, write: true, value: true });
    expect(by['.state.reported.on']).toMatchObject({
      read: true,
      write: false,
      writeVia: '.state.desired.on',
      value: false,
    });
    // A key holding a dot resolves to its value; arrays are leaves.
    expect(by['.state.reported.a.b']?.value).toBe(1);
    expect(by['.state.reported.list']?.value).toEqual([1, 2]);
    expect(by['.version']).toMatchObject({ read: false, write: false, writeVia: null });
  });

  it('flags invalid patterns and says access is off without a public key', () => {
    const a = shadowAccess(shadow, { shadow_read: ['(', '^\\.state'], public_key: '' });
    expect(a.off).toBe(true);
    expect(a.problems).toHaveLength(1);
    expect(a.problems[0]).toMatchObject({ field: 'shadow_read[0]', pattern: '(' });
    // The valid pattern still applies.
    expect(a.leaves.every((l) => l.read === l.path.startsWith('.state'))).toBe(true);
  });
});
