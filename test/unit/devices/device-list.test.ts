/**
 * The device list (issue 11: a dashboard polls it for 10,000 devices): the rows come from memory
 * and a shadow is parsed from its stored text only where no cached shadow supersedes it. Real
 * store in a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/main/store/store';
import { NotificationBus } from '../../../src/main/events/notification-bus';
import { DeviceService } from '../../../src/main/devices/device-service';
import type { DeviceRecord } from '../../../src/main/store/devices-repo';

const shadowOf = (version: number): DeviceRecord['shadow'] =>
  ({
    state: { desired: {}, reported: {}, delta: {} },
    version,
    timestamp: 0,
    metadata: {},
  }) as never;

const rec = (id: string, created: number): DeviceRecord => ({
  id,
  name: `name-${id}`,
  token: `tok-${id}`,
  acl: id === 'b' ? ({ rpc: 'Sys.*' } as never) : {},
  shadow: shadowOf(0),
  created,
  last_seen: 0,
});

let dir: string;
let store: Store;
let svc: DeviceService;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-device-list-'));
  store = openStore(dir, 0);
  svc = new DeviceService(store, new NotificationBus(), {
    maxShadowBytes: 8192,
    onError: () => undefined,
  });
  // Inserted out of order: the list is by created, then id.
  store.devices.insert(rec('c', 20));
  store.devices.insert(rec('b', 10));
  store.devices.insert(rec('a', 20));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('device list', () => {
  it('lists every device oldest first, ties by id, with its row and stored shadow', () => {
    const list = svc.list();
    expect(list.map((d) => d.id)).toEqual(['b', 'a', 'c']);
    expect(list[0]).toMatchObject({
      id: 'b',
      name: 'name-b',
      token: 'tok-b',
      acl: { rpc: 'Sys.*' },
      created: 10,
      shadow: shadowOf(0),
    });
  });

  it('a cached shadow stands in for the stored text, which is not parsed', async () => {
    await svc.setReported('a', { x: 1 });
    // The stored text of 'a' made unparsable behind the service's back: a parse would throw.
    store.registry.prepare("UPDATE devices SET shadow = '{broken' WHERE id = 'a'").run();
    // 'c' has no cached shadow: its stored text is what the list shows.
    store.registry
      .prepare("UPDATE devices SET shadow = ? WHERE id = 'c'")
      .run(JSON.stringify(shadowOf(9)));
    const byId = new Map(svc.list().map((d) => [d.id, d]));
    expect(byId.get('a')?.shadow.state.reported).toMatchObject({ x: 1 });
    expect(byId.get('c')?.shadow.version).toBe(9);
  });

  it('a row written behind the repo in the same loop turn is listed with its own fields', () => {
    expect(store.devices.listStored()).toHaveLength(3);
    store.registry
      .prepare(
        `INSERT INTO devices (id, name, token, token_hash, acl, shadow, created, last_seen)
         VALUES ('z', 'late', 'tok-z', x'00', '{}', ?, 30, 0)`,
      )
      .run(JSON.stringify(shadowOf(2)));
    const last = store.devices.listStored().at(-1);
    expect(last?.meta).toMatchObject({ id: 'z', name: 'late', created: 30 });
    expect(JSON.parse(last?.shadowJson ?? 'null')).toEqual(shadowOf(2));
  });
});
