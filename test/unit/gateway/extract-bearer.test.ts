/**
 * Where a secret comes from (PROTOCOL.md 1, 4): the Bearer header or `?access_token=`. Query
 * strings are not form data: a raw `+` in a key is a plus, never a space (issue 10).
 */
import { describe, expect, it } from 'vitest';
import { extractBearer, formatPeer } from '../../../src/main/gateway/upgrade-auth';

describe('extractBearer', () => {
  it('takes the Bearer header first', () => {
    expect(extractBearer(['Authorization', 'Bearer a+b'], '/x?access_token=zz')).toBe('a+b');
  });

  it('keeps a raw + in access_token a plus', () => {
    expect(extractBearer([], '/api/v2/m/device?access_token=ab+cd/ef==')).toBe('ab+cd/ef==');
  });

  it('decodes %2B to a plus and other escapes as usual', () => {
    expect(extractBearer([], '/x?a=1&access_token=ab%2Bcd%20e')).toBe('ab+cd e');
  });

  it('keeps a malformed escape as written instead of failing', () => {
    expect(extractBearer([], '/x?access_token=ab%zz')).toBe('ab%zz');
  });

  it('ignores a fragment, other parameters and an empty token', () => {
    expect(extractBearer([], '/x?access_tokenx=1&access_token=k1#frag')).toBe('k1');
    expect(extractBearer([], '/x?access_token=')).toBeNull();
    expect(extractBearer([], '/x')).toBeNull();
    expect(extractBearer([], undefined)).toBeNull();
  });
});

describe('formatPeer', () => {
  it('writes address:port, IPv6 in brackets, unknown for a socket that cannot tell', () => {
    expect(formatPeer({ remoteAddress: '127.0.0.1', remotePort: 5000 })).toBe('127.0.0.1:5000');
    expect(formatPeer({ remoteAddress: '::1', remotePort: 5000 })).toBe('[::1]:5000');
    expect(formatPeer({})).toBe('unknown');
  });
});
