import { describe, expect, it } from 'vitest';
import { MAX_EMAIL_LENGTH, normalizeEmail } from '../../../src/main/customers/email';

describe('customer emails (one account per address)', () => {
  it('lowercases and trims, so case and spaces do not make a second account', () => {
    expect(normalizeEmail('  Ann@Example.COM ')).toBe('ann@example.com');
    expect(normalizeEmail('a+tag@x.io')).toBe('a+tag@x.io');
  });

  it('refuses what is not an address', () => {
    for (const bad of [
      '',
      '   ',
      'ann',
      'ann@',
      '@x.com',
      'ann@x',
      'a b@x.com',
      'a@b@x.com',
      'ann@x.com\r\nBcc: z@y.com',
      '"a"@x.com',
      'a<b>@x.com',
      'a@x.',
    ]) {
      expect(normalizeEmail(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('takes an address of the longest length and refuses one longer', () => {
    const at = (n: number): string => 'a'.repeat(n - '@x.io'.length) + '@x.io';
    expect(normalizeEmail(at(MAX_EMAIL_LENGTH))).toBe(at(MAX_EMAIL_LENGTH));
    expect(normalizeEmail(at(MAX_EMAIL_LENGTH + 1))).toBeNull();
  });
});
