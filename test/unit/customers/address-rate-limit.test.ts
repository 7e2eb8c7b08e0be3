import { describe, expect, it } from 'vitest';
import { AddressRateLimit } from '../../../src/main/api/address-rate-limit';
import { HubError } from '../../../src/shared/errors';

function refused(fn: () => void): HubError | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof HubError) return e;
    throw e;
  }
}

describe('per-address rate limit (public customer routes)', () => {
  it('lets the burst through, refuses the next with 429 4296 and a retry time', () => {
    let now = 0;
    const rl = new AddressRateLimit(60, 3, 100, () => now);
    for (let i = 0; i < 3; i++) expect(refused(() => rl.take('1.2.3.4'))).toBeNull();
    const err = refused(() => rl.take('1.2.3.4'));
    expect(err?.status).toBe(429);
    expect(err?.code).toBe(4296);
    expect(err?.details).toEqual({ retryAfterS: 1 });
    // Another address has its own bucket.
    expect(refused(() => rl.take('5.6.7.8'))).toBeNull();
    // 60/min refills one per second.
    now = 1000;
    expect(refused(() => rl.take('1.2.3.4'))).toBeNull();
    expect(refused(() => rl.take('1.2.3.4'))).not.toBeNull();
  });

  it('remembers at most maxAddresses, forgetting the least recently seen', () => {
    const rl = new AddressRateLimit(60, 1, 2, () => 0);
    rl.take('a');
    rl.take('b');
    rl.take('c');
    expect(rl.size).toBe(2);
    // 'a' was forgotten: a fresh bucket.
    expect(refused(() => rl.take('a'))).toBeNull();
    // 'c' is still remembered (empty).
    expect(refused(() => rl.take('c'))).not.toBeNull();
  });

  it('0 per minute turns it off', () => {
    const rl = new AddressRateLimit(0, 0, 10, () => 0);
    for (let i = 0; i < 100; i++) rl.take('x');
  });
});
