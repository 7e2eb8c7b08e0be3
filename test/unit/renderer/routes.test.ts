import { describe, expect, it } from 'vitest';
import { parseRoute, routeHash } from '../../../src/renderer/lib/routes';

describe('routes', () => {
  it('round-trips device ids, including ones that need escaping', () => {
    for (const id of ['d1', 'a/b', 'x y', 'ü#?']) {
      expect(parseRoute(routeHash({ name: 'device', id }))).toEqual({ name: 'device', id });
    }
  });

  it('has a Data page', () => {
    expect(routeHash({ name: 'data' })).toBe('#/data');
    expect(parseRoute('#/data')).toEqual({ name: 'data' });
  });

  it('has Customers and Apps pages', () => {
    for (const name of ['customers', 'apps'] as const) {
      expect(routeHash({ name })).toBe(`#/${name}`);
      expect(parseRoute(`#/${name}`)).toEqual({ name });
    }
  });

  it('has Network and Settings pages', () => {
    for (const name of ['network', 'settings'] as const) {
      expect(routeHash({ name })).toBe(`#/${name}`);
      expect(parseRoute(`#/${name}`)).toEqual({ name });
    }
  });

  it('falls back to the device list for anything else', () => {
    expect(parseRoute('')).toEqual({ name: 'devices' });
    expect(parseRoute('#/devices/')).toEqual({ name: 'devices' });
    expect(parseRoute('#/devices/%E0%A4%A')).toEqual({ name: 'devices' });
    expect(parseRoute('#/nope')).toEqual({ name: 'devices' });
    expect(routeHash({ name: 'devices' })).toBe('#/devices');
  });
});
