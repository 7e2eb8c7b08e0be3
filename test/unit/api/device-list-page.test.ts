/**
 * A page of the device list reads only its own devices (issue 11: a page of 100 out of 10,000
 * made all 10,000 first); the whole list is read only when it is asked for.
 */
import { describe, expect, it } from 'vitest';
import { deviceListPage, type DeviceListSource } from '../../../src/main/api/device-list-page';
import type { DeviceObject } from '../../../src/shared/types';

const device = (id: string): DeviceObject =>
  ({
    id,
    name: id,
    token: 't',
    online: false,
    shadow: {},
    acl: {},
    created: 0,
    last_seen: 0,
  }) as never;

/** Ids in a shuffled order; counts what the page reads. */
function source(ids: string[], gone: string[] = []): DeviceListSource & { found: string[] } {
  const found: string[] = [];
  return {
    found,
    list: () => {
      throw new Error('a page must not read the whole list');
    },
    ids: () => [...ids],
    find: (id) => {
      found.push(id);
      return gone.includes(id) ? undefined : device(id);
    },
  };
}

describe('deviceListPage', () => {
  const ids = ['d07', 'd02', 'd10', 'd01', 'd05', 'd03', 'd09', 'd04', 'd08', 'd06'];

  it('a page finds only its own devices, in id order, and names the next', () => {
    const s = source(ids);
    const page = deviceListPage(s, { limit: '3', after: 'd04' });
    expect((page.body as DeviceObject[]).map((d) => d.id)).toEqual(['d05', 'd06', 'd07']);
    expect(s.found).toEqual(['d05', 'd06', 'd07']);
    expect(page.headers['X-Total-Count']).toBe('10');
    expect(page.headers['X-Next-After']).toBe('d07');
  });

  it('a device deleted since the ids were read is left out; the cursor still moves past it', () => {
    const page = deviceListPage(source(ids, ['d03']), { limit: '3' });
    expect((page.body as DeviceObject[]).map((d) => d.id)).toEqual(['d01', 'd02']);
    expect(page.headers['X-Next-After']).toBe('d03');
  });

  it('the last page has no next; without limit the whole list is read', () => {
    const last = deviceListPage(source(ids), { limit: '5', after: 'd05' });
    expect(last.headers['X-Next-After']).toBeUndefined();
    const whole = { ...source(ids), list: () => ids.map(device) };
    expect(deviceListPage(whole, {}).body).toHaveLength(10);
  });
});
