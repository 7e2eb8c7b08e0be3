/**
 * The `updated` notification's JSON is built by concatenation (notified-device-json.ts, issue 11)
 * and must be byte for byte `JSON.stringify(notifiedDevice(device))`: same keys, same order, same
 * escapes. Checked on the pure builder and through a DeviceService on a real store (SQLite files
 * in a temp dir), whose `updated` notifications must carry exactly the text of the device the
 * service returns for the same moment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/main/store/store';
import { REGISTRY_FILE } from '../../../src/main/store/data-dir';
import type { DeviceMeta } from '../../../src/main/store/devices-repo';
import { NotificationBus, type Published } from '../../../src/main/events/notification-bus';
import { DeviceService, type DeviceLink } from '../../../src/main/devices/device-service';
import {
  notifiedDeviceJson,
  notifiedDeviceOf,
} from '../../../src/main/devices/notified-device-json';
import { notifiedDevice } from '../../../src/shared/device-list';
import type { DeviceObject, Json, ShadowDoc } from '../../../src/shared/types';

const shadowOf = (reported: Record<string, Json>): ShadowDoc => ({
  state: { desired: { led: 'on' }, reported, delta: { led: 'on' } },
  tags: { room: 'Küche' },
  version: 7,
  timestamp: 1_700_000_000,
});

const metas: DeviceMeta[] = [
  { id: 'd1', name: 'd1', token: 't1', acl: {}, created: 1, last_seen: 0 },
  {
    id: 'dev.2_x',
    name: 'Wohnzimmer "Lampe" \\ </script> \u2028 😀 \ud800',
    token: 'secret',
    acl: { public_key: 'AAAA', shadow_read: ['^state\\.', 'tags'] },
    created: 1_700_000_000,
    last_seen: 1_700_000_100,
  },
  { id: 'z', name: '', token: 'x', acl: { shadow_read: '.*' }, created: 0, last_seen: 5 },
].map((m) => Object.freeze(m));

/** The device object exactly as DeviceService.toObject builds it. */
const deviceObject = (m: DeviceMeta, online: boolean, s: ShadowDoc, lastSeen: number) =>
  ({
    id: m.id,
    name: m.name,
    token: m.token,
    online,
    shadow: s,
    acl: m.acl,
    created: m.created,
    last_seen: lastSeen,
  }) as DeviceObject;

describe('notifiedDeviceJson', () => {
  it('is exactly JSON.stringify(notifiedDevice(device)), and notifiedDeviceOf the same object', () => {
    const shadows = [
      shadowOf({}),
      shadowOf({ online: true, temp: 21.5, ключ: 'значение', nested: { a: [1, 'b', null] } }),
      shadowOf(JSON.parse('{"__proto__":{"x":1},"emoji":"😀"}') as Record<string, Json>),
    ];
    for (const m of metas) {
      for (const online of [true, false]) {
        for (const s of shadows) {
          for (const lastSeen of [m.last_seen, m.last_seen + 30]) {
            const expected = notifiedDevice(deviceObject(m, online, s, lastSeen));
            const got = notifiedDeviceOf(m, online, s, lastSeen);
            expect(notifiedDeviceJson(m, online, JSON.stringify(s), lastSeen)).toBe(
              JSON.stringify(expected),
            );
            expect(Object.keys(got)).toEqual(Object.keys(expected));
            expect(got).toEqual(expected);
          }
        }
      }
    }
  });

  it('takes the shadow as the text it is given, unencoded', () => {
    expect(notifiedDeviceJson(metas[0] as DeviceMeta, true, '{"given":true}', 0)).toBe(
      '{"id":"d1","name":"d1","online":true,"shadow":{"given":true},"acl":{},"created":1,"last_seen":0}',
    );
  });
});

describe('DeviceService updated notifications', () => {
  let dir: string;
  let store: Store;
  let bus: NotificationBus;
  let svc: DeviceService;
  /** Each `updated`, with the device as `get` returned it while the notification was delivered. */
  let seen: Array<{ p: Published; device: DeviceObject }>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-notified-'));
    store = openStore(dir, 0);
    bus = new NotificationBus();
    svc = new DeviceService(store, bus, { maxShadowBytes: 8192, onError: () => undefined });
    seen = [];
    bus.subscribe((p) => {
      if (p.n.name === 'updated') seen.push({ p, device: svc.get(p.n.id) });
    });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The last `updated` must be the text of the device as `get` returned it at that moment. */
  function expectExact(id: string): void {
    const last = seen.at(-1);
    const p = last?.p;
    expect(p?.n.id).toBe(id);
    const expected = last && JSON.stringify(notifiedDevice(last.device));
    expect(p?.dataJson).toBe(expected);
    expect(JSON.stringify(p?.n.data)).toBe(expected);
    expect(p?.text).toBe(`{"name":"updated","id":${JSON.stringify(id)},"data":${expected}}`);
  }

  it('matches JSON.stringify for devices with and without a name, ACL, unicode, online, last_seen', async () => {
    const online = new Set<string>();
    const link: DeviceLink = {
      isOnline: (id) => online.has(id),
      call: () => Promise.reject(new Error('offline')),
      disconnect: () => undefined,
    };
    svc.setLink(link);
    svc.create({ id: 'a' });
    svc.create({ id: 'b', name: 'Büro "Nord" \u2028 😀' });

    await svc.updateShadow('a', { state: { reported: { temp: 1 } } });
    expectExact('a');
    online.add('a');
    await svc.updateShadow('a', { state: { desired: { ключ: 'é' } }, tags: { t: [1, 2] } });
    expectExact('a');

    await svc.setAcl('b', { public_key: 'QUJD', shadow_read: ['^state', 'x'] });
    await svc.updateShadow('b', { state: { reported: { s: '\ud800</script>' } } });
    expectExact('b');

    // last_seen newer in memory than in the row (touch), then written.
    svc.touch('b', true);
    await svc.updateShadow('b', { state: { reported: { s: 2 } } });
    expectExact('b');
    await new Promise((r) => setTimeout(r, 20));
    await svc.updateShadow('b', { state: { reported: { s: 3 } } });
    expectExact('b');

    // Rename and ACL change through POST /devices/:id's path, then a device update again.
    await svc.update('b', { name: 'renamed', acl: {}, shadow: { tags: { t: null } } });
    await svc.updateShadow('b', { state: { reported: { s: 4 } } });
    expectExact('b');

    // Hub-owned writes: online flag and reported.ota.
    await svc.setOnline('a', false);
    expectExact('a');
    await svc.replaceReported('a', 'ota', { fw_version: '1.0', id: 'x' });
    expectExact('a');
  });

  it('matches without a gateway (online from the stored flag)', async () => {
    svc.create({ id: 'c', name: 'C' });
    await svc.setReported('c', { online: true });
    expectExact('c');
    await svc.updateShadow('c', { state: { reported: { v: 1 } } });
    expectExact('c');
  });

  it('writes the row from the text the shadow core made', async () => {
    svc.create({ id: 'r' });
    await store.devices.update('r', { shadow: shadowOf({}), shadowJson: '{"from":"text"}' });
    const db = new Database(join(dir, REGISTRY_FILE), { readonly: true });
    try {
      const row = db
        .prepare<[string], { shadow: string }>('SELECT shadow FROM devices WHERE id = ?')
        .get('r');
      expect(row?.shadow).toBe('{"from":"text"}');
    } finally {
      db.close();
    }
  });
});
