/**
 * DB.Store and DB.Save against a real hub and account database (PROTOCOL.md 2 and 5): replies
 * after commit, coded errors with an id, counted drops without one, the rows quota at its edge
 * and the database size cap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ERRORS } from '../../../src/shared/errors';
import type { DeviceObject } from '../../../src/shared/types';
import { startTestHub, waitFor, type TestHub } from '../../support/hub-harness';
import { accountRows, dataDevice, fileDevice } from './data-rig';

let t: TestHub | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

describe('DB.Store (PROTOCOL.md 5)', () => {
  it('runs the ACL data_write query with bound params and DEVICE_ID, replying true after commit', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    const d = await fileDevice(t, dev);
    const r = await d.rpc('DB.Store', ['q', '2026-01-01 00:00:00', 'temp', { c: 21.5, ok: true }]);
    expect(r['result']).toBe(true);
    // The reply came after the commit: the row is already in the file.
    const rows = accountRows(t, "SELECT * FROM data WHERE topic = 'temp'");
    expect(rows).toEqual([
      {
        timestamp: '2026-01-01 00:00:00',
        device_id: dev.id,
        topic: 'temp',
        message: '{"c":21.5,"ok":true}',
      },
    ]);
  });

  it('binds booleans as 1/0 and never splices a parameter into the SQL', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t, {
      data_write: { b: "INSERT INTO data (device_id, topic, message) VALUES ('DEVICE_ID', ?, ?)" },
    });
    const d = await fileDevice(t, dev);
    expect((await d.rpc('DB.Store', ['b', "x'); DROP TABLE data; --", false]))['result']).toBe(
      true,
    );
    expect(
      accountRows(
        t,
        "SELECT topic, message FROM data WHERE device_id = ? AND topic != 'online'",
        dev.id,
      ),
    ).toEqual([
      { topic: "x'); DROP TABLE data; --", message: '0' }, // TEXT column: the INTEGER 0 as text
    ]);
  });

  it('answers an unknown name, an SQL error and bad params with coded errors', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t, {
      data_write: {
        q: "INSERT INTO data VALUES (?, 'DEVICE_ID', ?, ?)",
        bad: 'INSERT INTO nope VALUES (?)',
      },
    });
    // Refused when an ACL is saved over REST; one stored before that check (an older hub)
    // is refused again when it runs.
    const stored = t.hub.services().devices;
    await stored.setAcl(dev.id, {
      ...(await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`)).body.acl,
      data_write: {
        q: "INSERT INTO data VALUES (?, 'DEVICE_ID', ?, ?)",
        bad: 'INSERT INTO nope VALUES (?)',
        attach: "ATTACH DATABASE 'registry.db' AS r",
        pragma: 'PRAGMA synchronous = OFF',
      },
    });
    const d = await fileDevice(t, dev);
    const unknown = await d.rpc('DB.Store', ['missing', 1]);
    expect(unknown['error']).toMatchObject({ code: ERRORS.data_query_unknown.code });
    const sql = await d.rpc('DB.Store', ['bad', 1]);
    expect(sql['error']).toMatchObject({ code: ERRORS.data_write_failed.code });
    expect(String((sql['error'] as { message: string }).message)).toMatch(/no such table/);
    // The SQL API's guard applies to ACL queries: they run on the hub's own connection.
    for (const name of ['attach', 'pragma']) {
      const refused = await d.rpc('DB.Store', [name]);
      expect(refused['error']).toMatchObject({ code: ERRORS.data_write_failed.code });
      expect(String((refused['error'] as { message: string }).message)).toMatch(
        /not allowed|refused/i,
      );
    }
    const count = await d.rpc('DB.Store', ['q', 1]); // too few parameters
    expect(count['error']).toMatchObject({ code: ERRORS.data_write_failed.code });
    const shape = await d.rpc('DB.Store', { name: 'q' });
    expect(shape['error']).toMatchObject({ code: -32602 });
    // Inherited property names are not query names.
    expect((await d.rpc('DB.Store', ['toString']))['error']).toMatchObject({
      code: ERRORS.data_query_unknown.code,
    });
    expect(
      accountRows(t, 'SELECT * FROM data WHERE device_id = ? AND topic != ?', dev.id, 'online'),
    ).toEqual([]);
  });

  it('stores without an id and answers nothing; a failure without an id is a counted drop', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    const d = await fileDevice(t, dev);
    d.notify('DB.Store', ['q', 'ts', 'quiet', '1']);
    d.notify('DB.Store', ['missing', 1]);
    const stats = (): Record<string, number> =>
      t!.hub.services().gateway.data.stats.snapshot().dropped;
    await waitFor(() => (stats()['data_query_unknown'] ?? 0) === 1);
    await waitFor(() => accountRows(t!, "SELECT * FROM data WHERE topic = 'quiet'").length === 1);
    expect(
      d.raw.frames.filter((f) => f['result'] !== undefined || f['error'] !== undefined),
    ).toEqual([]);
    const hub = await t.api<{ data: { dropped: Record<string, number> } }>('GET', '/api/v2/hub');
    expect(hub.body.data.dropped['data_query_unknown']).toBe(1);
  });
});

describe('quotas', () => {
  it('accepts rows up to the per-device quota exactly and refuses the next one, for DB.Store and DB.Save', async () => {
    t = await startTestHub({ data: { maxRowsPerDevice: 3 } });
    const dev = await dataDevice(t);
    const other = await dataDevice(t);
    const d = await fileDevice(t, dev);
    // The online event is the hub's own row of this device (never refused): it counts.
    await waitFor(() => accountRows(t!, "SELECT * FROM data WHERE topic = 'online'").length === 1);
    const have = accountRows<{ n: number }>(
      t,
      'SELECT count(*) AS n FROM data WHERE device_id = ?',
      dev.id,
    )[0]!.n;
    for (let i = have; i < 3; i++) {
      expect((await d.rpc('DB.Store', ['q', 'ts', 't', String(i)]))['result']).toBe(true);
    }
    const over = await d.rpc('DB.Store', ['q', 'ts', 't', 'x']);
    expect(over['error']).toMatchObject({ code: ERRORS.data_rows_quota.code });
    const save = await d.rpc('DB.Save', { v: 1 });
    expect(save['error']).toMatchObject({ code: ERRORS.data_rows_quota.code });
    expect(accountRows(t, 'SELECT * FROM data WHERE device_id = ?', dev.id)).toHaveLength(3);
    // Another device has its own quota.
    const o = await fileDevice(t, other);
    expect((await o.rpc('DB.Save', { v: 2 }))['result']).toBe(true);
  });

  it('caps the account database size: a clear error, nothing acknowledged that is not stored', async () => {
    t = await startTestHub({ data: { maxAccountDbBytes: 256 * 1024 } });
    const dev = await dataDevice(t);
    const d = await fileDevice(t, dev);
    const big = 'x'.repeat(2000);
    let acked = 0;
    let error: Record<string, Json> | null = null;
    for (let i = 0; i < 400 && error === null; i++) {
      // Several writes at once so they share group-commit batches.
      const replies = await Promise.all(
        [0, 1, 2, 3].map((k) => d.rpc('DB.Store', ['q', 'ts', 'big', `${i}-${k}-${big}`])),
      );
      for (const r of replies) {
        if (r['result'] === true) acked++;
        else error = r['error'] as Record<string, Json>;
      }
    }
    expect(error).toMatchObject({ code: ERRORS.account_db_full.code });
    const stored = accountRows<{ n: number }>(
      t,
      "SELECT count(*) AS n FROM data WHERE topic = 'big'",
    )[0]!.n;
    expect(stored).toBe(acked);
    // Small rows that still fit go on; reads keep working.
    expect(acked).toBeGreaterThan(50);
  });
});

type Json = import('../../../src/shared/types').Json;
