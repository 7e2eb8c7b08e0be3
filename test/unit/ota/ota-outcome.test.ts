/**
 * Pure OTA decisions (PROTOCOL.md 6): what a fw_id after the reboot means, platform checks, and
 * the progress throttle.
 */
import { describe, expect, it } from 'vitest';
import {
  decideOutcome,
  percentOf,
  platformMismatch,
  ProgressThrottle,
} from '../../../src/main/ota/ota-outcome';
import { statePercent } from '../../../src/main/ota/ota-manager';

describe('decideOutcome', () => {
  it('a different fw_id is done; the same is rolled back', () => {
    expect(decideOutcome({ from: 'a', after: 'b' })).toEqual({ state: 'done' });
    expect(decideOutcome({ from: 'a', after: 'a' })).toMatchObject({
      state: 'rolled_back',
      error: { code: 'ota_rolled_back' },
    });
  });

  it('a known fw_id must match; the same image sent again is done', () => {
    expect(decideOutcome({ from: 'a', after: 'b', expected: 'b' }).state).toBe('done');
    expect(decideOutcome({ from: 'a', after: 'c', expected: 'b' })).toMatchObject({
      state: 'failed',
      error: { code: 'ota_unexpected_firmware' },
    });
    expect(decideOutcome({ from: 'b', after: 'b', expected: 'b' }).state).toBe('done');
    expect(decideOutcome({ from: 'a', after: '' }).state).toBe('failed');
  });
});

describe('platformMismatch', () => {
  it('compares without case and ignores what is not known', () => {
    expect(platformMismatch('esp32', 'ESP32')).toBe(false);
    expect(platformMismatch('esp32s3', 'esp32')).toBe(true);
    expect(platformMismatch('', 'esp32')).toBe(false);
    expect(platformMismatch('esp8266', '')).toBe(false);
  });
});

describe('progress', () => {
  it('percent is floored and capped', () => {
    expect(percentOf(0, 100)).toBe(0);
    expect(percentOf(999, 1000)).toBe(99);
    expect(percentOf(2000, 1000)).toBe(100);
    expect(percentOf(0, 0)).toBe(100);
  });

  it('emits on every new percent, on the interval, and always at the end', () => {
    const t = new ProgressThrottle(250);
    expect(t.shouldEmit(1, false, 0)).toBe(true);
    expect(t.shouldEmit(1, false, 100)).toBe(false);
    expect(t.shouldEmit(1, false, 249)).toBe(false);
    expect(t.shouldEmit(1, false, 250)).toBe(true);
    expect(t.shouldEmit(2, false, 251)).toBe(true);
    expect(t.shouldEmit(2, true, 252)).toBe(true);
  });

  it('reads State.Set {"ota":{"percent"}} and nothing else', () => {
    expect(statePercent({ ota: { percent: 42 } })).toBe(42);
    expect(statePercent({ ota: { percent: null } })).toBeNull();
    expect(statePercent({ ota: {} })).toBeUndefined();
    expect(statePercent({ other: 1 })).toBeUndefined();
    expect(statePercent({ ota: { percent: 'x' } })).toBeUndefined();
  });
});
