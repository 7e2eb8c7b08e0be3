/**
 * Secrets: random tokens, hashes for lookup, and constant-time comparison. API keys are stored
 * only as SHA-256 hashes; device passwords must be shown again (PROTOCOL.md 4 device object has
 * `token`), so they are stored plainly but looked up by hash and compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function randomToken(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/** Short lowercase id (device and key ids): readable, URL-safe, 60 bits of entropy. */
export function randomId(prefix: string, length = 12): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function secretsEqual(a: string, b: string): boolean {
  // Compare fixed-length digests so neither the content nor the length leaks through timing.
  return timingSafeEqual(hashSecret(a), hashSecret(b));
}
