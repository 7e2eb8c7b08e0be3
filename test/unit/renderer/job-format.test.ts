/** The flasher page's pure helpers: address input, labels, progress, sizes, hints. */
import { describe, expect, it } from 'vitest';
import {
  formatAddress,
  formatBytes,
  isActive,
  isPreparing,
  ownerLabel,
  parseAddressText,
  progressPercent,
  refusalHint,
  splitHint,
  stateLabel,
  stateTone,
} from '../../../src/renderer/features/flasher/job-format';

describe('parseAddressText', () => {
  it('reads hex and decimal, leaves empty to the hub, refuses the rest', () => {
    expect(parseAddressText('')).toBeUndefined();
    expect(parseAddressText('  ')).toBeUndefined();
    expect(parseAddressText('0x10000')).toBe(0x10000);
    expect(parseAddressText('0X1000')).toBe(0x1000);
    expect(parseAddressText('4096')).toBe(4096);
    expect(parseAddressText('0xffffffff')).toBe(0xffffffff);
    for (const bad of ['12k', '0x', '-1', '0x1_000', '1e3', '0x100000000', '99999999999']) {
      expect(parseAddressText(bad)).toBeNull();
    }
  });
});

describe('state labels and progress', () => {
  it('names each state as the page shows it', () => {
    expect(stateLabel({ state: 'connecting', attempt: 3 })).toBe('Connecting (attempt 3)');
    expect(stateLabel({ state: 'connecting', attempt: 1 })).toBe('Connecting');
    expect(stateLabel({ state: 'writing', bytes: 10, total: 100 })).toBe('Writing');
    expect(stateLabel({ state: 'writing', bytes: 10, total: 100, file: 1, files: 3 })).toBe(
      'Writing file 2 of 3',
    );
    expect(stateLabel({ state: 'done', durationMs: 2345 })).toBe('Done in 2.3 s');
    expect(stateLabel({ state: 'failed', code: 'no_sync', message: 'x' })).toBe('Failed');
  });

  it('computes the bar: percent while writing, full after, indeterminate before', () => {
    expect(progressPercent({ state: 'writing', bytes: 1, total: 3 })).toBe(33);
    expect(progressPercent({ state: 'writing', bytes: 0, total: 0 })).toBe(0);
    expect(progressPercent({ state: 'verifying' })).toBe(100);
    expect(progressPercent({ state: 'queued' })).toBe(0);
    expect(isPreparing({ state: 'connecting' })).toBe(true);
    expect(isPreparing({ state: 'erasing' })).toBe(true);
    expect(isPreparing({ state: 'queued' })).toBe(false);
    expect(isPreparing({ state: 'writing', bytes: 0, total: 1 })).toBe(false);
  });

  it('tells active jobs and tones apart', () => {
    expect(isActive({ state: 'writing', bytes: 0, total: 1 })).toBe(true);
    expect(isActive({ state: 'cancelled' })).toBe(false);
    expect(stateTone({ state: 'done', durationMs: 1 })).toBe('ok');
    expect(stateTone({ state: 'failed', code: 'timeout', message: '' })).toBe('danger');
    expect(stateTone({ state: 'cancelled' })).toBe('muted');
    expect(stateTone({ state: 'queued' })).toBe('active');
  });
});

describe('formatting', () => {
  it('formats sizes, addresses and owners', () => {
    expect(formatBytes(300)).toBe('300 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(64 * 1024)).toBe('64 KB');
    expect(formatBytes(4 * 1024 * 1024)).toBe('4 MB');
    expect(formatBytes(1234567)).toBe('1.2 MB');
    expect(formatAddress(0x10000)).toBe('0x10000');
    expect(ownerLabel({ kind: 'flash', id: 'j1' })).toBe('flash job j1');
    expect(ownerLabel({ kind: 'monitor', id: 'm2' })).toBe('monitor m2');
  });
});

describe('hints', () => {
  it('splits the hint the hub appends to a refusal, and leaves other messages whole', () => {
    expect(
      splitHint(
        'app.bin: flash address 0x10800 is not a multiple of 0x1000 (one flash sector) (Flash is erased in 4 KiB sectors; check the address.)',
      ),
    ).toEqual({
      message: 'app.bin: flash address 0x10800 is not a multiple of 0x1000 (one flash sector)',
      hint: 'Flash is erased in 4 KiB sectors; check the address.',
    });
    // A closing parenthesis that is not a sentence is part of the message.
    expect(splitHint('bad image (offset 12)')).toEqual({ message: 'bad image (offset 12)' });
    expect(splitHint('port /dev/ttyUSB0 is busy')).toEqual({
      message: 'port /dev/ttyUSB0 is busy',
    });
  });

  it('has a next step for the refusals a person can fix', () => {
    expect(refusalHint(4093)).toMatch(/cancel/);
    expect(refusalHint(4044)).toMatch(/Refresh/);
    expect(refusalHint(0)).toMatch(/not reachable/);
    expect(refusalHint(4002)).toBeUndefined();
  });
});
