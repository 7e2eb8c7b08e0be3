/**
 * What a login and its Sys.GetInfo step cost the store (issue 11): marking a device online writes
 * its shadow and `last_seen` in one statement, and `reported.ota` goes with a newly learned public
 * key in one statement too. Each case counts the group committer's writes and reads the row back
 * from the SQLite file itself, on a real store in a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/main/store/store';
import { REGISTRY_FILE } from '../../../src/main/store/data-dir';
import { NotificationBus, type Published } from '../../../src/main/events/notification-bus';
import { DeviceService } from '../../../src/main/devices/device-service';
import type { DeviceAcl } from '../../../src/shared/types';

interface StoredRow {
  acl: string;
  shadow: string;
  last_seen: number;
}

let dir: string;
let store: Store;
let svc: DeviceService;
let published: Published[];
let aclSeen: Array<{ id: string; acl: DeviceAcl | null }>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-session-writes-'));
  store = openStore(dir, 0);
  const bus = new NotificationBus();
  svc = new DeviceService(store, bus, { maxShadowBytes: 8192, onError: () => undefined });
  published = [];
  bus.subscribe((p) => void published.push(p));
  aclSeen = [];
  svc.onAclChanged((id, acl) => void aclSeen.push({ id, acl }));
  svc.create({ id: 'd1' });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The row as another connection reads it from the file: what a crash would leave. */
function storedRow(id: string): StoredRow {
  const db = new Database(join(dir, REGISTRY_FILE), { readonly: true });
  try {
    return db
      .prepare<[string], StoredRow>('SELECT acl, shadow, last_seen FROM devices WHERE id = ?')
      .get(id) as StoredRow;
  } finally {
    db.close();
  }
}

/** Committer writes made while `fn` ran and settled. */
async function writesOf(fn: () => Promise<unknown>): Promise<number> {
  const before = store.committer.stats.writes;
  await fn();
  return store.committer.stats.writes - before;
}

describe('a login writes once', () => {
  it('stores reported.online and last_seen in one statement, and says so in `updated`', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    expect(await writesOf(() => svc.setOnline('d1', true))).toBe(1);
    const row = storedRow('d1');
    expect(JSON.parse(row.shadow).state.reported.online).toBe(true);
    expect(row.last_seen).toBeGreaterThanOrEqual(t0);
    expect(svc.get('d1').last_seen).toBe(row.last_seen);
    const updated = published.find((p) => p.n.name === 'updated');
    expect((updated?.n.data as { last_seen?: number }).last_seen).toBe(row.last_seen);
    expect(published.map((p) => p.n.name)).toEqual(['created', 'updated', 'online']);
  });

  it('still stores last_seen when the shadow already says online', async () => {
    await svc.setOnline('d1', true);
    const db = new Database(join(dir, REGISTRY_FILE));
    db.prepare('UPDATE devices SET last_seen = 5 WHERE id = ?').run('d1');
    db.close();
    expect(await writesOf(() => svc.setOnline('d1', true))).toBe(1);
    expect(storedRow('d1').last_seen).toBeGreaterThan(5);
  });

  it('marks offline the same way', async () => {
    await svc.setOnline('d1', true);
    expect(await writesOf(() => svc.setOnline('d1', false))).toBe(1);
    expect(JSON.parse(storedRow('d1').shadow).state.reported.online).toBe(false);
  });
});

describe('Sys.GetInfo with a new public key writes once', () => {
  it('stores reported.ota and the ACL in one statement and tells the ACL listeners', async () => {
    const info = { fw_version: '1.0', public_key: 'PK1' };
    const acl = { public_key: 'PK1' };
    expect(await writesOf(() => svc.replaceReported('d1', 'ota', info, acl))).toBe(1);
    const row = storedRow('d1');
    expect(JSON.parse(row.shadow).state.reported.ota).toEqual(info);
    expect(JSON.parse(row.acl)).toEqual(acl);
    expect(svc.get('d1').acl).toEqual(acl);
    expect(aclSeen).toEqual([{ id: 'd1', acl }]);
  });

  it('stores the ACL alone when reported.ota is unchanged', async () => {
    const info = { fw_version: '1.0' };
    await svc.replaceReported('d1', 'ota', info);
    expect(await writesOf(() => svc.replaceReported('d1', 'ota', info, { public_key: 'K' }))).toBe(
      1,
    );
    expect(JSON.parse(storedRow('d1').acl)).toEqual({ public_key: 'K' });
    expect(aclSeen).toEqual([{ id: 'd1', acl: { public_key: 'K' } }]);
  });

  it('writes nothing when neither changed', async () => {
    const info = { fw_version: '1.0' };
    await svc.replaceReported('d1', 'ota', info);
    expect(await writesOf(() => svc.replaceReported('d1', 'ota', info))).toBe(0);
    expect(aclSeen).toEqual([]);
  });
});

describe('DevicesRepo.update', () => {
  it('writes every given column in one statement and keeps the others', async () => {
    const shadow = svc.shadowOf('d1');
    const before = storedRow('d1');
    expect(
      await writesOf(() =>
        store.devices.update('d1', { name: 'N', acl: { public_key: 'P' }, shadow, last_seen: 9 }),
      ),
    ).toBe(1);
    const meta = store.devices.getMeta('d1');
    expect(meta?.name).toBe('N');
    expect(meta?.acl).toEqual({ public_key: 'P' });
    expect(meta?.last_seen).toBe(9);
    expect(storedRow('d1')).toEqual({ ...before, acl: '{"public_key":"P"}', last_seen: 9 });
    expect(await writesOf(() => store.devices.update('d1', {}))).toBe(0);
  });
});
