/**
 * The SQL API (PROTOCOL.md 4, 5; src/main/api/sql-routes.ts, src/main/data/sql-executor.ts) on a
 * real hub: form and JSON bodies, refusals, capped results, a runaway query stopped at its deadline
 * while the hub keeps answering, writes that never stall device rows, and a consistent download.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectOnline,
  startTestHub,
  waitFor,
  type ErrorBody,
  type TestHub,
} from '../../support/hub-harness';
import type { HubOptions } from '../../../src/main/config';
import { SNAPSHOT_DIR } from '../../../src/main/data/sql-executor';

interface Result {
  columns: string[];
  rows: unknown[][];
  truncated?: boolean;
  changes?: number;
}

const RUNAWAY =
  'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c';

let t: TestHub | null = null;
let dir: string | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

async function hub(options: Partial<HubOptions> = {}): Promise<TestHub> {
  t = await startTestHub(options);
  return t;
}

const exec = (h: TestHub, query: string, params?: unknown[]) =>
  h.api<Result & ErrorBody>('POST', '/api/v2/sql/exec', { query, ...(params && { params }) });

/** Milliseconds a plain REST call takes. */
async function timed(h: TestHub): Promise<number> {
  const t0 = performance.now();
  const r = await h.api('GET', '/api/v2/devices');
  expect(r.status).toBe(200);
  return performance.now() - t0;
}

describe('POST /api/v2/sql/exec', () => {
  it('answers {columns, rows} to JSON and to a form as mDash clients send it', async () => {
    const h = await hub();
    const json = await exec(h, 'SELECT ? + 1 AS n, ? AS s, NULL AS z', [41, 'x']);
    expect(json.status, json.text).toBe(200);
    expect(json.body).toEqual({ columns: ['n', 's', 'z'], rows: [[42, 'x', null]] });

    const res = await fetch(`${h.http}/api/v2/sql/exec`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${h.key}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ query: "SELECT name FROM sqlite_master WHERE name = 'data'" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ columns: ['name'], rows: [['data']] });

    // A write answers its change count; the rows are there for the next read.
    const ins = await exec(h, "INSERT INTO data (device_id, topic, message) VALUES ('d', 't', ?)", [
      '{"a":1}',
    ]);
    expect(ins.body).toEqual({ columns: [], rows: [], changes: 1 });
    const back = await exec(h, "SELECT json_extract(message, '$.a') FROM data WHERE device_id='d'");
    expect(back.body.rows).toEqual([[1]]);
  });

  it('needs the master key; refuses bad input, SQL errors and statements outside the database', async () => {
    const h = await hub();
    expect((await h.api('POST', '/api/v2/sql/exec', { query: 'SELECT 1' }, null)).status).toBe(401);
    const empty = await h.api<ErrorBody>('POST', '/api/v2/sql/exec', {});
    expect([empty.status, empty.body.error.code]).toEqual([400, 4002]);
    const bad = await exec(h, 'SELEC 1');
    expect([bad.status, bad.body.error.code]).toEqual([400, 4008]);
    expect(bad.body.error.message).toMatch(/syntax error/);

    dir = mkdtempSync(join(tmpdir(), 'fb-sql-out-'));
    const outside = join(dir, 'copy.db');
    for (const q of [
      `ATTACH DATABASE '${outside}' AS x`,
      `SELECT 1; /* */ attach '${outside}' as x`,
      `VACUUM INTO '${outside}'`,
      "SELECT load_extension('/tmp/nothing.so')",
      'PRAGMA synchronous = OFF',
      'PRAGMA main.journal_mode = DELETE',
      'PRAGMA locking_mode = EXCLUSIVE',
      'PRAGMA writable_schema = 1',
      'PRAGMA mmap_size = 268435456',
      `PRAGMA temp_store_directory = '${dir}'`,
      'SELECT * FROM pragma_database_list',
      'BEGIN IMMEDIATE',
      'CREATE TRIGGER t AFTER INSERT ON data BEGIN SELECT 1; END',
    ]) {
      const r = await exec(h, q);
      expect([r.status, r.body.error?.code], q).toEqual([403, 4038]);
    }
    expect(existsSync(outside)).toBe(false);
    // Nothing changed: the hub's connection still syncs fully and uses WAL.
    const mode = await exec(h, 'PRAGMA journal_mode');
    expect(mode.body.rows).toEqual([['wal']]);
    const info = await exec(h, 'PRAGMA table_info(data)');
    expect(info.body.rows.map((r) => r[1])).toEqual(['timestamp', 'device_id', 'topic', 'message']);
  });

  it('caps a result in rows and in bytes and says truncated', async () => {
    const h = await hub({ sql: { maxRows: 10, maxBytes: 1000 } });
    const series = (n: number) =>
      `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ${n}) SELECT x FROM c`;
    const exact = await exec(h, series(10));
    expect(exact.body.rows).toHaveLength(10);
    expect(exact.body.truncated).toBeUndefined();
    const over = await exec(h, series(11));
    expect(over.body.rows).toHaveLength(10);
    expect(over.body.truncated).toBe(true);
    const wide = await exec(h, 'SELECT hex(randomblob(100)) FROM (VALUES (1),(2),(3),(4),(5),(6))');
    expect(wide.body.truncated).toBe(true);
    expect(wide.text.length).toBeLessThan(1100);
    expect(wide.body.rows.length).toBeGreaterThan(0);
  });

  it('stops a runaway query at its deadline while the hub keeps answering; the next query works', async () => {
    const h = await hub({ sql: { timeoutMs: 1500, workers: 1 } });
    const idle = await timed(h);
    const started = performance.now();
    const runaway = exec(h, RUNAWAY);
    const during: number[] = [];
    while (performance.now() - started < 1200) during.push(await timed(h));
    const r = await runaway;
    expect([r.status, r.body.error.code]).toEqual([504, 5048]);
    expect(performance.now() - started).toBeLessThan(4000);
    expect(during.length).toBeGreaterThan(5);
    expect(Math.max(...during)).toBeLessThan(Math.max(200, idle * 20));
    // A cross join of millions the same way, then ordinary work on a fresh process.
    const cross = await exec(
      h,
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100000) ' +
        'SELECT count(*) FROM c a, c b',
    );
    expect(cross.status).toBe(504);
    const next = await exec(h, 'SELECT 2');
    expect(next.body.rows).toEqual([[2]]);
    expect(h.hub.services().sql.spawned).toBe(3);
  }, 20_000);

  it('queues at most sql.maxQueued statements behind busy processes; more get 429', async () => {
    const h = await hub({ sql: { timeoutMs: 1500, workers: 1, maxQueued: 1 } });
    const sql = h.hub.services().sql;
    const runaway = exec(h, RUNAWAY);
    await waitFor(() => sql.pids().length === 1, 10_000);
    const queued = exec(h, 'SELECT 1');
    await waitFor(() => sql.pending === 2);
    const refused = await exec(h, 'SELECT 2');
    expect([refused.status, refused.body.error.code]).toEqual([429, 4299]);
    expect((await runaway).status).toBe(504);
    expect((await queued).body.rows).toEqual([[1]]);
  }, 20_000);

  it('a long write never stalls the hub or device rows; a failed or stopped write leaves nothing', async () => {
    const h = await hub({ sql: { timeoutMs: 4000 } });
    const dev = await h.createDevice({ id: 'saver' });
    const raw = await connectOnline(h, dev);
    await exec(h, 'CREATE TABLE big (x INTEGER PRIMARY KEY)');
    // Holds the write lock for a good while.
    const bigWrite = exec(
      h,
      'INSERT INTO big SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c ' +
        'WHERE x < 1500000) SELECT x FROM c)',
    );
    await new Promise((r) => setTimeout(r, 100));
    const saves: Promise<unknown>[] = [];
    const worst: number[] = [];
    for (let i = 1; i <= 20; i++) {
      raw.send({ id: i, method: 'DB.Save', params: { n: i } });
      saves.push(raw.next((f) => f['id'] === i && !('method' in f), 15_000));
      worst.push(await timed(h));
    }
    const w = await bigWrite;
    expect(w.status, w.text).toBe(200);
    expect(w.body.changes).toBe(1_500_000);
    const replies = (await Promise.all(saves)) as { result?: unknown }[];
    expect(replies.filter((f) => f.result !== true)).toEqual([]);
    expect(Math.max(...worst)).toBeLessThan(300);
    const rows = await exec(
      h,
      "SELECT count(*) FROM data WHERE device_id = 'saver' AND topic = 'data'",
    );
    expect(rows.body.rows).toEqual([[20]]);

    // A write that fails half way (a duplicate key at the 1000th row) leaves nothing.
    const dup = await exec(
      h,
      'INSERT INTO big SELECT x + 2000000 FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL ' +
        'SELECT x+1 FROM c WHERE x < 2000) SELECT x FROM c) UNION ALL SELECT 2000999',
    );
    expect(dup.status).toBe(400);
    // A write stopped at its deadline leaves nothing either.
    const stopped = await exec(
      h,
      'INSERT INTO big SELECT x + 3000000 FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL ' +
        'SELECT x+1 FROM c) SELECT x FROM c)',
    );
    expect(stopped.status).toBe(504);
    const count = await exec(h, 'SELECT count(*) FROM big WHERE x > 1500000');
    expect(count.body.rows).toEqual([[0]]);
    raw.close();
  }, 60_000);
});

describe('GET /api/v2/sql/db', () => {
  it('streams a consistent snapshot that opens as SQLite, while devices keep writing', async () => {
    const h = await hub();
    const dev = await h.createDevice({ id: 'snap' });
    const raw = await connectOnline(h, dev);
    await exec(h, 'CREATE TABLE pad (x INTEGER PRIMARY KEY, b BLOB)');
    await exec(
      h,
      'INSERT INTO pad SELECT x, randomblob(200) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL ' +
        'SELECT x+1 FROM c WHERE x < 50000) SELECT x FROM c)',
    );
    let n = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        n++;
        raw.send({ id: n, method: 'DB.Save', params: { n } });
        await raw.next((f) => f['id'] === n && !('method' in f), 10_000);
      }
    })();
    const res = await fetch(`${h.http}/api/v2/sql/db`, {
      headers: { authorization: `Bearer ${h.key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.sqlite3');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="account-.*\.sqlite"$/,
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    writing = false;
    await writer;
    expect(bytes.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    dir = mkdtempSync(join(tmpdir(), 'fb-sql-dl-'));
    const file = join(dir, 'dl.sqlite');
    writeFileSync(file, bytes);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT count(*) AS n FROM pad').get()).toEqual({ n: 50_000 });
    const saved = (
      db
        .prepare("SELECT count(*) AS n FROM data WHERE device_id='snap' AND topic='data'")
        .get() as {
        n: number;
      }
    ).n;
    expect(saved).toBeLessThanOrEqual(n);
    db.close();
    // The temporary copy is gone once sent.
    await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(join(h.dataDir, SNAPSHOT_DIR))).toEqual([]);
    raw.close();
  }, 60_000);
});

describe('/api/v2/devices/:id/data/:name', () => {
  it("runs the ACL's data_read query for that device with bound parameters", async () => {
    const h = await hub();
    await h.createDevice({ id: 'dr1' });
    await h.createDevice({ id: 'dr2' });
    const acl = {
      data_read: {
        latest:
          "SELECT topic, message FROM data WHERE device_id='DEVICE_ID' AND topic = ? ORDER BY rowid",
        bad: 'SELECT nope FROM nowhere',
      },
    };
    expect((await h.api('POST', '/api/v2/devices/dr1', { acl })).status).toBe(200);
    // A query the SQL guard refuses is refused when the ACL is saved (issue 10)...
    const evilAcl = { data_read: { ...acl.data_read, evil: "ATTACH 'x.db' AS x" } };
    const saved = await h.api<ErrorBody>('POST', '/api/v2/devices/dr1', { acl: evilAcl });
    expect([saved.status, saved.body.error.code]).toEqual([403, 4038]);
    // ...and still when it runs, for an ACL stored before that check existed.
    await h.hub.services().devices.setAcl('dr1', evilAcl);
    await exec(
      h,
      "INSERT INTO data (device_id, topic, message) VALUES ('dr1','t','a'),('dr2','t','b'),('dr1','u','c')",
    );
    const post = await h.api<Result>('POST', '/api/v2/devices/dr1/data/latest', { params: ['t'] });
    expect(post.status, post.text).toBe(200);
    expect(post.body).toEqual({ columns: ['topic', 'message'], rows: [['t', 'a']] });
    const get = await h.api<Result>(
      'GET',
      `/api/v2/devices/dr1/data/latest?params=${encodeURIComponent('["u"]')}`,
    );
    expect(get.body.rows).toEqual([['u', 'c']]);

    const noQuery = await h.api<ErrorBody>('GET', '/api/v2/devices/dr2/data/latest');
    expect([noQuery.status, noQuery.body.error.code]).toEqual([404, 4048]);
    const proto = await h.api<ErrorBody>('GET', '/api/v2/devices/dr1/data/toString');
    expect([proto.status, proto.body.error.code]).toEqual([404, 4048]);
    const noDevice = await h.api<ErrorBody>('POST', '/api/v2/devices/ghost/data/latest', {});
    expect([noDevice.status, noDevice.body.error.code]).toEqual([404, 4041]);
    const badSql = await h.api<ErrorBody>('POST', '/api/v2/devices/dr1/data/bad', {});
    expect([badSql.status, badSql.body.error.code]).toEqual([400, 4008]);
    const evil = await h.api<ErrorBody>('POST', '/api/v2/devices/dr1/data/evil', {});
    expect([evil.status, evil.body.error.code]).toEqual([403, 4038]);
    const badParams = await h.api<ErrorBody>('GET', '/api/v2/devices/dr1/data/latest?params=nope');
    expect([badParams.status, badParams.body.error.code]).toEqual([400, 4002]);
    expect((await h.api('GET', '/api/v2/devices/dr1/data/latest', undefined, null)).status).toBe(
      401,
    );
  });
});
