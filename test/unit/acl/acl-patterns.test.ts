/**
 * The ACL pattern forms (PROTOCOL.md 8): regex strings or arrays (any match, a search as
 * `RegExp.test`), rpc globs as a comma string or an array, and RE2 refusing what could backtrack.
 */
import { describe, expect, it } from 'vitest';
import {
  PATTERN_CACHE_SIZE,
  aclPatternErrors,
  compilePattern,
  globList,
  globMatcher,
  patternCacheSize,
  regexList,
  regexMatcher,
} from '../../../src/shared/acl/acl-patterns';

describe('ACL pattern forms', () => {
  it('normalizes shadow regexes from a string or an array', () => {
    expect(regexList('^.state')).toEqual(['^.state']);
    expect(regexList(['a', 'b'])).toEqual(['a', 'b']);
    expect(regexList(undefined)).toEqual([]);
    expect(regexList(42)).toEqual([]);
  });

  it('splits and trims rpc globs from a string or an array', () => {
    expect(globList(' Sys.Reboot , MyDevice.* ,')).toEqual(['Sys.Reboot', 'MyDevice.*']);
    expect(globList(['A.B', ' C '])).toEqual(['A.B', 'C']);
    expect(globList('')).toEqual([]);
  });

  it('searches like RegExp.test: anchors only as written, any regex of an array', () => {
    const m = regexMatcher('state.reported.(on|ota.id)');
    expect(m('.state.reported.on')).toBe(true);
    expect(m('.x.state.reported.ota.id')).toBe(true);
    expect(m('.state.desired.on')).toBe(false);
    const anchored = regexMatcher(['^.state.reported.online$', '^.tags.']);
    expect(anchored('.state.reported.online')).toBe(true);
    expect(anchored('.state.reported.onlineX')).toBe(false);
    expect(anchored('.tags.labels')).toBe(true);
    expect(regexMatcher(undefined)('.state')).toBe(false);
  });

  it('matches rpc globs whole, `*` as any run, dots literal', () => {
    const m = globMatcher('Sys.Reboot,MyDevice.*');
    expect(m('Sys.Reboot')).toBe(true);
    expect(m('Sys.RebootX')).toBe(false);
    expect(m('SysXReboot')).toBe(false);
    expect(m('MyDevice.Toggle')).toBe(true);
    expect(m('MyDevice.')).toBe(true);
    expect(globMatcher(['*'])('Anything.At.All')).toBe(true);
    expect(globMatcher('')('Sys.Reboot')).toBe(false);
    expect(globMatcher('a(b)+,[x]')('a(b)+')).toBe(true);
  });

  it('names every pattern RE2 refuses: invalid, backreference, lookaround', () => {
    const errors = aclPatternErrors({
      shadow_read: ['^.state', '(a', '(a)\\1'],
      shadow_write: '(?=x)y',
    });
    expect(errors.map((e) => e.field)).toEqual([
      'shadow_read[1]',
      'shadow_read[2]',
      'shadow_write',
    ]);
    expect(errors[0]?.reason).toMatch(/missing closing/);
    expect(aclPatternErrors({ shadow_read: '^.state.(a|b)', shadow_write: ['x*'] })).toEqual([]);
  });

  it('an uncompilable stored pattern grants nothing instead of throwing', () => {
    expect(regexMatcher('(a')('(a')).toBe(false);
    expect(regexMatcher(['(a', 'b'])('b')).toBe(true);
  });

  it('keeps the compiled-pattern cache bounded', () => {
    for (let i = 0; i < PATTERN_CACHE_SIZE + 50; i++) compilePattern(`^p${i}$`);
    expect(patternCacheSize()).toBe(PATTERN_CACHE_SIZE);
    expect(compilePattern('^p1$')).not.toBe(undefined);
  });
});

describe('evil regexes run in linear time', () => {
  const evil: Array<[string, string]> = [
    ['(a+)+$', `${'a'.repeat(100_000)}!`],
    ['(a|aa)+$', `${'a'.repeat(100_000)}!`],
    ['(.*a){25}', 'a'.repeat(2_000) + 'b'.repeat(2_000)],
    ['^(([a-z])+.)+[A-Z]([a-z])+$', `${'aaaaaaaaaa'.repeat(5_000)}!`],
  ];
  for (const [pattern, input] of evil) {
    it(`${pattern} against ${input.length} adversarial characters`, () => {
      expect(aclPatternErrors({ shadow_read: pattern })).toEqual([]);
      const match = regexMatcher(pattern);
      const t0 = performance.now();
      match(input);
      // A backtracking engine takes longer than the universe's age here; RE2 takes milliseconds.
      expect(performance.now() - t0).toBeLessThan(2_000);
    });
  }
});
