import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  SCRYPT_PARAMS,
  verifyPassword,
} from '../../../src/main/customers/password-hash';

describe('customer password hashes (scrypt, per-customer salt)', () => {
  it('verifies the right password and refuses others', async () => {
    const h = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', h)).toBe(true);
    expect(await verifyPassword('correct horsf', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('stores the named parameters and a fresh salt, never the password', async () => {
    const a = await hashPassword('pw');
    const b = await hashPassword('pw');
    expect(a).not.toBe(b);
    expect(a).not.toContain('pw$');
    const [scheme, n, r, p, salt, key] = a.split('$');
    expect([scheme, Number(n), Number(r), Number(p)]).toEqual([
      'scrypt',
      SCRYPT_PARAMS.N,
      SCRYPT_PARAMS.r,
      SCRYPT_PARAMS.p,
    ]);
    expect(Buffer.from(salt ?? '', 'base64url')).toHaveLength(SCRYPT_PARAMS.saltLen);
    expect(Buffer.from(key ?? '', 'base64url')).toHaveLength(SCRYPT_PARAMS.keyLen);
  });

  it('is slow on purpose (at least a few ms per hash)', async () => {
    const t0 = performance.now();
    await hashPassword('x');
    expect(performance.now() - t0).toBeGreaterThan(5);
  });

  it('refuses when there is no hash or it is malformed (still doing the work)', async () => {
    expect(await verifyPassword('anything', null)).toBe(false);
    expect(await verifyPassword('anything', 'plain-text')).toBe(false);
    expect(await verifyPassword('anything', 'scrypt$0$8$1$$')).toBe(false);
  });
});
