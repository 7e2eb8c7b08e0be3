/**
 * What readers see of shadow writes, and the order of writes around a device's delete and create
 * (issue 7 items 6 and 3). A real hub on port 0 with a temp data dir; node's own fdatasync is
 * wrapped (fdatasync-probe.ts) to hold a WAL flush open, so a write can be caught committed in
 * SQLite but not yet on disk: the moment a crash would lose it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openNotify, sleep, startTestHub, waitFor, type TestHub } from '../../support/hub-harness';
import { probeFdatasync, type FdatasyncProbe } from './fdatasync-probe';
import { REGISTRY_FILE } from '../../../src/main/store/data-dir';
import type { DeviceObject, ShadowDoc } from '../../../src/shared/types';

const shadowPath = (id: string): string => `/api/v2/devices/${id}/shadow`;

/** The shadow as stored in SQLite right now (committed, flushed or not), via its own connection. */
function storedShadow(t: TestHub, id: string): ShadowDoc | undefined {
  const db = new Database(join(t.dataDir, REGISTRY_FILE), { readonly: true });
  try {
    const row = db
      .prepare<[string], { shadow: string }>('SELECT shadow FROM devices WHERE id = ?')
      .get(id);
    return row ? (JSON.parse(row.shadow) as ShadowDoc) : undefined;
  } finally {
    db.close();
  }
}

describe('shadow writes and readers', () => {
  let t: TestHub | undefined;
  let probe: FdatasyncProbe | undefined;
  afterEach(async () => {
    probe?.restore();
    probe = undefined;
    await t?.stop();
    t = undefined;
  });

  it('a reader never sees a change before its flush; the updated notification comes after it (item 6)', async () => {
    t = await startTestHub();
    const hub = t;
    await hub.createDevice({ id: 'c1' });
    const before = (await hub.api<ShadowDoc>('GET', shadowPath('c1'))).body;
    const notify = await openNotify(hub);
    probe = probeFdatasync();
    probe.hold = true;
    const post = hub.api<ShadowDoc>('POST', shadowPath('c1'), {
      state: { desired: { led: 'on' } },
    });
    // Committed in SQLite (another connection sees it), its WAL flush not finished.
    await waitFor(() => storedShadow(hub, 'c1')?.state.desired['led'] === 'on', 5000, 'the commit');
    await waitFor(() => (probe?.held() ?? 0) > 0, 5000, 'the flush');
    await sleep(30);

    // Every way of reading says what is on disk, which is still the old document.
    expect((await hub.api<ShadowDoc>('GET', shadowPath('c1'))).body).toEqual(before);
    expect((await hub.api<DeviceObject>('GET', '/api/v2/devices/c1')).body.shadow).toEqual(before);
    const list = (await hub.api<DeviceObject[]>('GET', '/api/v2/devices')).body;
    expect(list.find((d) => d.id === 'c1')?.shadow).toEqual(before);
    expect(notify.events.filter((n) => n.name === 'updated')).toEqual([]);

    probe.hold = false;
    probe.release();
    const reply = await post;
    expect(reply.status).toBe(200);
    expect(reply.body.version).toBe(before.version + 1);
    expect((await hub.api<ShadowDoc>('GET', shadowPath('c1'))).body).toEqual(reply.body);
    await notify.next((n) => n.name === 'updated' && n.id === 'c1');
    notify.ws.close();
  });

  it('concurrent writers still build on each other while their flush is held (no lost update)', async () => {
    t = await startTestHub();
    const hub = t;
    await hub.createDevice({ id: 'c2' });
    probe = probeFdatasync();
    probe.hold = true;
    const posts = Array.from({ length: 10 }, (_, i) =>
      hub.api<ShadowDoc>('POST', shadowPath('c2'), { state: { reported: { [`k${i}`]: i } } }),
    );
    await waitFor(
      () => Object.keys(storedShadow(hub, 'c2')?.state.reported ?? {}).length >= 1,
      5000,
      'a commit',
    );
    expect((await hub.api<ShadowDoc>('GET', shadowPath('c2'))).body.version).toBe(0);
    probe.hold = false;
    probe.release();
    const replies = await Promise.all(posts);
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    const doc = (await hub.api<ShadowDoc>('GET', shadowPath('c2'))).body;
    expect(doc.version).toBe(10);
    expect(Object.keys(doc.state.reported).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `k${i}`).sort(),
    );
  });

  it('a failed commit is never shown to readers; the next write builds on the committed document', async () => {
    t = await startTestHub();
    const hub = t;
    await hub.createDevice({ id: 'c3' });
    await hub.api('POST', shadowPath('c3'), { state: { desired: { a: 1 } } });
    const committed = (await hub.api<ShadowDoc>('GET', shadowPath('c3'))).body;
    // A full disk: the write is refused, nothing of it is visible.
    const registry = hub.hub.services().store.registry;
    const pages = registry.pragma('page_count', { simple: true }) as number;
    registry.pragma(`max_page_count = ${pages}`);
    const refused = await hub.api('POST', shadowPath('c3'), {
      tags: { big: 'x'.repeat(6000) },
    });
    expect(refused.status).toBe(507);
    expect((await hub.api<ShadowDoc>('GET', shadowPath('c3'))).body).toEqual(committed);
    registry.pragma('max_page_count = 1073741823');
    const next = await hub.api<ShadowDoc>('POST', shadowPath('c3'), {
      state: { desired: { b: 2 } },
    });
    expect(next.status).toBe(200);
    expect(next.body.version).toBe(committed.version + 1);
    expect(next.body.tags).toEqual({});
    expect(next.body.state.desired).toEqual({ a: 1, b: 2 });
  });
});

describe('delete and create with the same id (item 3)', () => {
  let t: TestHub | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a shadow write queued for the deleted device never lands on the new one, also after a restart', async () => {
    // A long commit window: the shadow write below stays queued while the device is deleted
    // and created again.
    const first = await startTestHub({ timings: { commitWindowMs: 2000 } });
    t = first;
    await first.createDevice({ id: 're' });
    const { devices } = first.hub.services();
    const queued = devices.updateShadow('re', {
      state: { desired: { old: true } },
      tags: { from: 'the deleted device' },
    });
    expect(storedShadow(first, 're')?.version).toBe(0);

    expect((await first.api('DELETE', '/api/v2/devices/re')).status).toBe(200);
    const created = await first.createDevice({ id: 're' });
    expect(created.shadow.version).toBe(0);
    // The old write was committed before the delete (it was queued first), so it succeeds.
    await expect(queued).resolves.toMatchObject({ version: 1 });
    await sleep(50);

    const fresh = (await first.api<ShadowDoc>('GET', shadowPath('re'))).body;
    expect(fresh.version).toBe(0);
    expect(fresh.tags).toEqual({});
    expect(fresh.state.desired).toEqual({});
    expect(storedShadow(first, 're')).toEqual(fresh);

    const dataDir = first.dataDir;
    dirs.push(dataDir);
    await first.hub.stop();
    const again = await startTestHub({ dataDir });
    t = again;
    const after = (await again.api<ShadowDoc>('GET', shadowPath('re'))).body;
    expect(after.tags).toEqual({});
    expect(after.state.desired).toEqual({});
  });
});
