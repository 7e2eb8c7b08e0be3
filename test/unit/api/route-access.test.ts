import { describe, expect, it } from 'vitest';
import { effectiveAuth } from '../../../src/main/api/auth';
import { listedAccess, ROUTE_ACCESS } from '../../../src/main/api/route-access';

describe('route access table (issue 10 "Auth, made explicit")', () => {
  it('lists each method + url once', () => {
    const keys = ROUTE_ACCESS.map((a) => `${a.method} ${a.url}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('the table wins over what a route declares', () => {
    expect(effectiveAuth('GET', '/api/v2/devices', 'none')).toBe('master');
    expect(effectiveAuth('GET', '/customer', undefined)).toBe('customer');
    expect(listedAccess('GET', '/newcustomer')).toBe('none');
  });

  it('a route the table does not list keeps its own mode, or is closed (master), never public by default', () => {
    expect(effectiveAuth('GET', '/not-listed', undefined)).toBe('master');
    expect(effectiveAuth('GET', '/api/v2/not-listed', undefined)).toBe('master');
    expect(effectiveAuth('GET', '/not-listed', 'device')).toBe('device');
  });
});
