/**
 * Shadow documents leaf by leaf (PROTOCOL.md 8): paths with a leading dot rooted at the document,
 * arrays as leaves, read filtering that rebuilds the object, all-or-nothing write checks.
 */
import { describe, expect, it } from 'vitest';
import { deniedLeaves, filterLeaves, leafPaths } from '../../../src/shared/acl/shadow-leaves';
import {
  compileAcl,
  readableShadow,
  rpcAllowed,
  unwritableLeaves,
} from '../../../src/shared/acl/device-acl';

const shadow = {
  state: {
    desired: { on: true, config: { level: 3 } },
    reported: { online: true, on: false, ota: { id: 'x', fw_version: '1.0' }, list: [1, 2] },
    delta: { on: true },
  },
  tags: { labels: ['a', 'b'] },
  version: 7,
  timestamp: 1700000000,
};

describe('shadow leaves', () => {
  it('lists every leaf with a leading dot; arrays and empty objects are leaves', () => {
    expect(leafPaths(shadow)).toEqual([
      '.state.desired.on',
      '.state.desired.config.level',
      '.state.reported.online',
      '.state.reported.on',
      '.state.reported.ota.id',
      '.state.reported.ota.fw_version',
      '.state.reported.list',
      '.state.delta.on',
      '.tags.labels',
      '.version',
      '.timestamp',
    ]);
    expect(leafPaths({ a: {}, b: null })).toEqual(['.a', '.b']);
  });

  it('keeps only readable leaves and rebuilds the object', () => {
    const acl = compileAcl({ shadow_read: '^.state.reported.(online|ota.id)' });
    expect(readableShadow(acl, shadow)).toEqual({
      state: { reported: { online: true, ota: { id: 'x' } } },
    });
    const two = compileAcl({ shadow_read: ['^.tags.', '^.version$'] });
    expect(readableShadow(two, shadow)).toEqual({ tags: { labels: ['a', 'b'] }, version: 7 });
    expect(readableShadow(compileAcl({}), shadow)).toEqual({});
  });

  it('roots paths at a prefix (a delta alone)', () => {
    const allow = (p: string): boolean => p === '.state.delta.on';
    expect(filterLeaves({ on: 1, off: 2 }, allow, '.state.delta')).toEqual({ on: 1 });
  });

  it('returns every refused leaf of a write; none when all match', () => {
    const acl = compileAcl({ shadow_write: '^.state.desired.(on|config.*)' });
    expect(unwritableLeaves(acl, { state: { desired: { on: false, config: { x: 1 } } } })).toEqual(
      [],
    );
    expect(
      unwritableLeaves(acl, { state: { desired: { on: false, secret: 1 }, reported: { on: 1 } } }),
    ).toEqual(['.state.desired.secret', '.state.reported.on']);
    expect(unwritableLeaves(compileAcl({}), { state: { desired: { on: 1 } } })).toEqual([
      '.state.desired.on',
    ]);
    expect(deniedLeaves('not an object', () => true)).toEqual(['.']);
  });

  it('checks rpc globs', () => {
    const acl = compileAcl({ rpc: 'Sys.Reboot, GPIO.*' });
    expect(rpcAllowed(acl, 'GPIO.Toggle')).toBe(true);
    expect(rpcAllowed(acl, 'Sys.GetInfo')).toBe(false);
  });
});
