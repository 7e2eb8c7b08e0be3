/**
 * Secrets: random tokens, hashes for lookup, and constant-time comparison. API keys are stored
 * only as SHA-256 hashes; device passwords must be shown again (PROTOCOL.md 4 device object has
 * `token`), so they are stored plainly but looked up by hash and compared in constant time.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

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

/**
 * SHA-256 of a secret. Every request and every device login hashes one, so it is the one-shot
 * `crypto.hash` (about 270 ns for a key's hex) rather than a Hash object (about 1.4 us with its
 * hex; together 3-4% of the hub's time per REST RPC call, issue 11).
 */
export function hashSecret(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

/** The hex of hashSecret(secret): the key of the in-memory lookups by digest. */
export function hashSecretHex(secret: string): string {
  return hash('sha256', secret, 'hex');
}

export function secretsEqual(a: string, b: string): boolean {
  // Compare fixed-length digests so neither the content nor the length leaks through timing.
  return timingSafeEqual(hashSecret(a), hashSecret(b));
}
