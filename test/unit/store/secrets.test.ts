/**
 * Secrets are looked up by SHA-256 (secrets.ts): the one-shot hash must be the standard digest,
 * the same bytes as its hex, so the digests already stored in data dirs keep matching.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, hashSecretHex, secretsEqual } from '../../../src/main/store/secrets';

describe('secret digests', () => {
  it('is SHA-256 of the UTF-8 text (FIPS 180-2 vector, non-ASCII text)', () => {
    expect(hashSecretHex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    for (const s of ['', 'ActJWvXZ6qnBIVgb7yiOjWXwMe_HybBb', 'pässwörd-ключ-🔑']) {
      const ref = createHash('sha256').update(s, 'utf8').digest();
      expect(hashSecret(s).equals(ref)).toBe(true);
      expect(hashSecretHex(s)).toBe(ref.toString('hex'));
    }
  });

  it('compares secrets by digest', () => {
    expect(secretsEqual('a', 'a')).toBe(true);
    expect(secretsEqual('a', 'b')).toBe(false);
    expect(secretsEqual('a', 'a ')).toBe(false);
  });
});
