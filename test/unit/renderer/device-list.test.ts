import { describe, expect, it } from 'vitest';
import {
  applyDeviceNotifications,
  changeAffectsOrder,
  countOnline,
  sameIds,
  summarizeDevice,
  visibleDevices,
  visibleIds,
  type DeviceMap,
  type DeviceSummary,
} from '../../../src/renderer/lib/device-list';
import type { DeviceObject, Json } from '../../../src/shared/types';

function device(id: string, extra: Partial<DeviceObject> = {}): DeviceObject {
  return {
    id,
    name: '',
    token: 't',
    online: false,
    shadow: { state: { desired: {}, reported: {}, delta: {} }, tags: {}, version: 1, timestamp: 0 },
    acl: {},
    created: 1,
    last_seen: 0,
    ...extra,
  };
}

const map = (...ds: DeviceObject[]): DeviceMap =>
  new Map(ds.map((d) => [d.id, summarizeDevice(d)]));
const asJson = (d: DeviceObject): Json => d as unknown as Json;

describe('applyDeviceNotifications', () => {
  it('adds created devices, replaces updated ones and removes deleted ones', () => {
    const before = map(device('a'), device('b'));
    const { devices: after, changed } = applyDeviceNotifications(
      before,
      [
        { name: 'created', id: 'c', data: asJson(device('c', { name: 'new' })) },
        { name: 'updated', id: 'a', data: asJson(device('a', { name: 'renamed' })) },
        { name: 'deleted', id: 'b', data: null },
      ],
      0,
    );
    expect([...after.keys()].sort()).toEqual(['a', 'c']);
    expect(after.get('a')?.name).toBe('renamed');
    expect(changed.sort()).toEqual(['a', 'b', 'c']);
    expect(before.size).toBe(2); // the input is never mutated
  });

  it('sets online/offline and last_seen from bare events, or takes the device object when sent', () => {
    const now = 1_700_000_000_000;
    const { devices: after } = applyDeviceNotifications(
      map(device('a'), device('b', { online: true })),
      [
        { name: 'online', id: 'a', data: null },
        { name: 'offline', id: 'b', data: {} },
      ],
      now,
    );
    expect(after.get('a')).toMatchObject({ online: true, last_seen: now / 1000 });
    expect(after.get('b')).toMatchObject({ online: false, last_seen: now / 1000 });
    const { devices: withObj } = applyDeviceNotifications(
      map(device('a')),
      [{ name: 'online', id: 'a', data: asJson(device('a', { name: 'x', last_seen: 5 })) }],
      now,
    );
    expect(withObj.get('a')).toMatchObject({ online: true, name: 'x', last_seen: 5 });
  });

  it('returns the same map for events that change nothing (console lines, unknown ids, junk)', () => {
    const before = map(device('a'));
    const { devices: after, changed } = applyDeviceNotifications(
      before,
      [
        { name: 'rpc.out.Log', id: 'a', data: { fd: 1, data: 'hi' } },
        { name: 'online', id: 'ghost', data: null },
        { name: 'deleted', id: 'ghost', data: null },
        { name: 'updated', id: 'a', data: 'not a device' },
        { name: 'created', id: 'x', data: { id: 3 } },
      ],
      0,
    );
    expect(after).toBe(before);
    expect(changed).toEqual([]);
  });

  it('keeps the same map and summary when an update changes nothing the table shows', () => {
    const before = map(device('a', { name: 'n', online: true }));
    const reported = device('a', { name: 'n', online: true, token: '' });
    reported.shadow.state.reported = { temp: 21 };
    reported.shadow.version = 7;
    const r = applyDeviceNotifications(
      before,
      [{ name: 'updated', id: 'a', data: asJson(reported) }],
      0,
    );
    expect(r.devices).toBe(before);
    expect(r.changed).toEqual([]);
    // A firmware change does show.
    reported.shadow.state.reported = { ota: { fw_version: '2.0' } };
    const r2 = applyDeviceNotifications(
      before,
      [{ name: 'updated', id: 'a', data: asJson(reported) }],
      0,
    );
    expect(r2.devices.get('a')?.fw).toBe('2.0');
    expect(r2.changed).toEqual(['a']);
  });
});

describe('visibleDevices', () => {
  const devices = map(
    device('dev-10', { name: 'Kitchen', online: true, last_seen: 50 }),
    device('dev-2', { name: 'garage', last_seen: 100 }),
    device('dev-1', {
      name: 'Attic',
      shadow: {
        state: { desired: {}, reported: { ota: { fw_version: '2.1.0' } }, delta: {} },
        tags: {},
        version: 1,
        timestamp: 0,
      },
    }),
  );

  it('sorts ids naturally and flips direction', () => {
    expect(visibleDevices(devices, '', { key: 'id', dir: 'asc' }).map((d) => d.id)).toEqual([
      'dev-1',
      'dev-2',
      'dev-10',
    ]);
    expect(visibleDevices(devices, '', { key: 'id', dir: 'desc' }).map((d) => d.id)).toEqual([
      'dev-10',
      'dev-2',
      'dev-1',
    ]);
  });

  it('sorts by name case-insensitively, online first, most recently seen first', () => {
    expect(visibleDevices(devices, '', { key: 'name', dir: 'asc' }).map((d) => d.name)).toEqual([
      'Attic',
      'garage',
      'Kitchen',
    ]);
    expect(visibleDevices(devices, '', { key: 'online', dir: 'asc' })[0]?.id).toBe('dev-10');
    expect(visibleDevices(devices, '', { key: 'last_seen', dir: 'asc' })[0]?.id).toBe('dev-2');
  });

  it('filters on id, name and firmware version; all words must match', () => {
    expect(visibleDevices(devices, 'KITCH', { key: 'id', dir: 'asc' }).map((d) => d.id)).toEqual([
      'dev-10',
    ]);
    expect(visibleDevices(devices, '2.1', { key: 'id', dir: 'asc' }).map((d) => d.id)).toEqual([
      'dev-1',
    ]);
    expect(
      visibleDevices(devices, 'dev attic', { key: 'id', dir: 'asc' }).map((d) => d.id),
    ).toEqual(['dev-1']);
    expect(visibleDevices(devices, 'dev nothing', { key: 'id', dir: 'asc' })).toEqual([]);
  });

  it('stays fast with 10,000 devices', () => {
    const big = new Map<string, DeviceSummary>();
    for (let i = 0; i < 10_000; i++)
      big.set(
        `d${i}`,
        summarizeDevice(device(`d${i}`, { name: `sensor ${i}`, online: i % 3 === 0 })),
      );
    const t0 = performance.now();
    const all = visibleDevices(big, '', { key: 'name', dir: 'asc' });
    const some = visibleDevices(big, 'sensor 99', { key: 'id', dir: 'asc' });
    const ms = performance.now() - t0;
    expect(all).toHaveLength(10_000);
    // Both words must match: every device whose number contains "99".
    const expected = Array.from({ length: 10_000 }, (_, i) => String(i)).filter((n) =>
      n.includes('99'),
    );
    expect(some.length).toBe(expected.length);
    expect(countOnline(big)).toBe(3334);
    expect(ms).toBeLessThan(500);
  });
});

describe('visible ids and when they need recomputing', () => {
  const s = (id: string, extra: Partial<DeviceSummary> = {}): DeviceSummary => ({
    id,
    name: '',
    online: false,
    last_seen: 0,
    fw: '',
    ...extra,
  });
  const byId = { key: 'id', dir: 'asc' } as const;

  it('a device going online moves nothing when sorted by id, but does when sorted by status', () => {
    expect(changeAffectsOrder(s('a'), s('a', { online: true, last_seen: 9 }), '', byId)).toBe(
      false,
    );
    expect(
      changeAffectsOrder(s('a'), s('a', { online: true }), '', { key: 'online', dir: 'asc' }),
    ).toBe(true);
    expect(
      changeAffectsOrder(s('a'), s('a', { last_seen: 3 }), '', { key: 'last_seen', dir: 'asc' }),
    ).toBe(true);
  });

  it('a rename or new firmware matters only to a search (or its own sort key)', () => {
    expect(changeAffectsOrder(s('a'), s('a', { name: 'x' }), '', byId)).toBe(false);
    expect(changeAffectsOrder(s('a'), s('a', { name: 'x' }), 'kit', byId)).toBe(true);
    expect(changeAffectsOrder(s('a'), s('a', { fw: '2' }), 'kit', byId)).toBe(true);
    expect(changeAffectsOrder(s('a'), s('a', { name: 'x' }), '', { key: 'name', dir: 'asc' })).toBe(
      true,
    );
  });

  it('adding or removing a device always does', () => {
    expect(changeAffectsOrder(undefined, s('a'), '', byId)).toBe(true);
    expect(changeAffectsOrder(s('a'), undefined, '', byId)).toBe(true);
    expect(changeAffectsOrder(undefined, undefined, '', byId)).toBe(false);
  });

  it('visibleIds lists ids in order; sameIds compares them element by element', () => {
    const m: DeviceMap = new Map(
      [s('b'), s('a'), s('c', { name: 'kitchen' })].map((d) => [d.id, d]),
    );
    expect(visibleIds(m, '', byId)).toEqual(['a', 'b', 'c']);
    expect(visibleIds(m, 'KIT', byId)).toEqual(['c']);
    expect(sameIds(['a', 'b'], ['a', 'b'])).toBe(true);
    expect(sameIds(['a', 'b'], ['b', 'a'])).toBe(false);
    expect(sameIds(['a'], ['a', 'b'])).toBe(false);
  });
});
