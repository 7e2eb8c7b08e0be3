/**
 * The e2e browser gate (test/support/browser-gate.ts): under CI a missing Chromium fails the run,
 * locally it skips with a message, and a present one always runs.
 */
import { describe, expect, it } from 'vitest';
import { browserGate, chromiumPath, DEFAULT_CHROMIUM, isCi } from '../../support/browser-gate';

const present = (): boolean => true;
const missing = (): boolean => false;

describe('isCi', () => {
  it('reads CI as set when present and not an explicit no', () => {
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({ CI: '1' })).toBe(true);
    expect(isCi({ CI: 'woodpecker' })).toBe(true);
    expect(isCi({})).toBe(false);
    expect(isCi({ CI: '' })).toBe(false);
    expect(isCi({ CI: 'false' })).toBe(false);
    expect(isCi({ CI: 'FALSE' })).toBe(false);
    expect(isCi({ CI: '0' })).toBe(false);
  });
});

describe('chromiumPath', () => {
  it("is Debian's path unless FLEETBENCH_CHROMIUM names another", () => {
    expect(chromiumPath({})).toBe(DEFAULT_CHROMIUM);
    expect(chromiumPath({ FLEETBENCH_CHROMIUM: ' ' })).toBe(DEFAULT_CHROMIUM);
    expect(chromiumPath({ FLEETBENCH_CHROMIUM: '/opt/chromium/chrome' })).toBe(
      '/opt/chromium/chrome',
    );
  });
});

describe('browserGate', () => {
  it('runs when the browser exists, with or without CI', () => {
    expect(browserGate({ CI: 'true' }, present)).toEqual({ action: 'run', path: DEFAULT_CHROMIUM });
    expect(browserGate({}, present)).toEqual({ action: 'run', path: DEFAULT_CHROMIUM });
  });

  it('fails under CI when the browser is missing, naming the path and how to install it', () => {
    const gate = browserGate({ CI: 'true' }, missing);
    expect(gate.action).toBe('fail');
    if (gate.action !== 'fail') return;
    expect(gate.message).toContain(DEFAULT_CHROMIUM);
    expect(gate.message).toContain('apt-get install chromium');
    expect(gate.message).toContain('FLEETBENCH_CHROMIUM');
  });

  it('skips with a visible message locally when the browser is missing', () => {
    for (const env of [{}, { CI: 'false' }, { CI: '' }]) {
      const gate = browserGate(env, missing);
      expect(gate.action).toBe('skip');
      if (gate.action !== 'skip') return;
      expect(gate.message).toContain(DEFAULT_CHROMIUM);
      expect(gate.message).toContain('SKIPPED');
    }
  });

  it('checks the path it will launch (FLEETBENCH_CHROMIUM), not the default', () => {
    const seen: string[] = [];
    const gate = browserGate({ CI: 'true', FLEETBENCH_CHROMIUM: '/x/chrome' }, (p) => {
      seen.push(p);
      return false;
    });
    expect(seen).toEqual(['/x/chrome']);
    expect(gate).toMatchObject({ action: 'fail', path: '/x/chrome' });
  });
});
