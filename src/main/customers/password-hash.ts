/**
 * Customer passwords for HTTP Basic `email:password` (PROTOCOL.md 4): stored only as a salted
 * scrypt hash, never returned. scrypt is slow and memory-hard on purpose, so a stolen registry
 * does not give the passwords away cheaply; it runs on libuv's thread pool (the async form), so
 * a sign-in never blocks the event loop. The parameters travel inside the stored string, so they
 * can be raised later without breaking existing hashes.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Cost parameters of new hashes: N = 2^14, r = 8, p = 1 (16 MB, ~50 ms on a laptop core). */
export const SCRYPT_PARAMS = { N: 16_384, r: 8, p: 1, keyLen: 32, saltLen: 16 } as const;

/** Longest password accepted (bytes): bounds the work one request can ask for. */
export const MAX_PASSWORD_BYTES = 1024;

/** Memory scrypt may use: above 128 * N * r for the largest parameters we accept back. */
const MAX_MEM = 64 * 1024 * 1024;

function derive(
  password: string,
  salt: Buffer,
  keyLen: number,
  opts: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLen, { ...opts, maxmem: MAX_MEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$<N>$<r>$<p>$<salt, base64url>$<hash, base64url>` */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, keyLen, saltLen } = SCRYPT_PARAMS;
  const salt = randomBytes(saltLen);
  const key = await derive(password, salt, keyLen, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface Parsed {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const key = Buffer.from(parts[5] ?? '', 'base64url');
  if (!N || !r || !p || salt.length === 0 || key.length === 0) return null;
  return { N, r, p, salt, key };
}

/** A stored hash that matches no password: checked against when the email is unknown. */
let dummyHash: Promise<string> | null = null;

/**
 * True when `password` matches `stored`, compared in constant time. With `stored` null (no such
 * customer, or no password set) it still does one full scrypt, so timing does not tell which
 * emails have accounts.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const parsed = parse(stored ?? (await dummyHash));
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.key.length, {
    N: parsed.N,
    r: parsed.r,
    p: parsed.p,
  });
  return timingSafeEqual(key, parsed.key) && stored !== null;
}
