/**
 * `POST /api/v2/devices/:id` with several fields is all or nothing (issue 7 item 10): every
 * part is checked before anything is written, and the writes commit in one transaction. A
 * trigger in the real registry database makes one part fail inside SQLite, after every check
 * has passed, to prove that the other parts are rolled back with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../support/hub-harness';
import type { DeviceObject } from '../../../src/shared/types';

describe('multi-field device update is atomic (issue 7 item 10)', () => {
  let t: TestHub;
  const get = async (id: string): Promise<DeviceObject> =>
    (await t.api<DeviceObject>('GET', `/api/v2/devices/${id}`)).body;

  beforeAll(async () => {
    t = await startTestHub();
    // Refuses any acl containing "explode", as a full disk or a constraint would refuse a write.
    t.hub.services().store.registry.exec(`
      CREATE TRIGGER test_acl_refused BEFORE UPDATE OF acl ON devices
      WHEN NEW.acl LIKE '%explode%'
      BEGIN SELECT RAISE(ABORT, 'acl refused by test trigger'); END;`);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('when the acl write fails in the store, the name and shadow stay as they were', async () => {
    await t.createDevice({ id: 'atomic-1', name: 'before' });
    const r = await t.api('POST', '/api/v2/devices/atomic-1', {
      name: 'after',
      shadow: { state: { desired: { led: 'on' } } },
      acl: { rpc: ['explode'] },
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    const d = await get('atomic-1');
    expect(d.name).toBe('before');
    expect(d.acl).toEqual({});
    expect(d.shadow.version).toBe(0);
    expect(d.shadow.state.desired).toEqual({});
  });

  it('without a shadow part too', async () => {
    await t.createDevice({ id: 'atomic-2', name: 'before' });
    const r = await t.api('POST', '/api/v2/devices/atomic-2', {
      name: 'after',
      acl: { rpc: ['explode'] },
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect((await get('atomic-2')).name).toBe('before');
  });

  it('a bad part refused by validation changes nothing either', async () => {
    await t.createDevice({ id: 'atomic-3', name: 'before' });
    for (const body of [
      { name: 'after', shadow: { state: { desired: 'not an object' } } },
      { name: 'after', shadow: { state: { desired: { big: 'x'.repeat(9000) } } } },
      { name: 'after', acl: { rpc: 42 } },
    ]) {
      const r = await t.api('POST', '/api/v2/devices/atomic-3', body);
      expect(r.status, JSON.stringify(body).slice(0, 60)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    const d = await get('atomic-3');
    expect(d.name).toBe('before');
    expect(d.shadow.version).toBe(0);
  });

  it('all parts land together when all are good', async () => {
    await t.createDevice({ id: 'atomic-4', name: 'before' });
    const r = await t.api<DeviceObject>('POST', '/api/v2/devices/atomic-4', {
      name: 'after',
      shadow: { state: { desired: { led: 'on' } } },
      acl: { rpc: ['Sys.*'] },
    });
    expect(r.status).toBe(200);
    const d = await get('atomic-4');
    expect(d.name).toBe('after');
    expect(d.acl).toEqual({ rpc: ['Sys.*'] });
    expect(d.shadow.state.desired).toEqual({ led: 'on' });
  });
});
