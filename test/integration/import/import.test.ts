/**
 * `fleetbench import` (issue 12) between two real hubs on port 0: the source has devices with
 * ACLs and shadows, customers and account data; the target starts empty. After the import a
 * device logs in to the TARGET with its old id and password, and everything compared is equal;
 * a second run changes nothing; a dry run writes nothing; a bad key, an unreachable server and a
 * server that is not mDash-compatible are coded errors; a local device with another password is
 * a conflict unless --overwrite.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importCommand, type ImportCliOptions } from '../../../src/main/cli/import-cli';
import { DEFAULT_IMPORT } from '../../../src/main/config';
import { endpointFrom } from '../../../src/main/import/rest-client';
import { runImport } from '../../../src/main/import/run-import';
import type { ImportSummary } from '../../../src/main/import/import-summary';
import { HubError } from '../../../src/shared/errors';
import type { DeviceObject } from '../../../src/shared/types';
import { connectOnline, startTestHub, type TestHub } from '../../support/hub-harness';

let source: TestHub;
let target: TestHub;
const cleanups: Array<() => Promise<void> | void> = [];

const ACL = {
  public_key: 'pk-d1',
  shadow_read: '^.state.reported.(temp|online)',
  rpc: 'Sys.*',
  data_read: { q1: "SELECT * FROM data WHERE device_id='DEVICE_ID'" },
};

async function ok<T>(t: TestHub, method: string, path: string, body?: unknown): Promise<T> {
  const r = await t.api<T>(method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

async function rows(t: TestHub, query: string): Promise<unknown[][]> {
  return (await ok<{ rows: unknown[][] }>(t, 'POST', '/api/v2/sql/exec', { query })).rows;
}

/** Runs the CLI command against the target; its stdout (JSON) parsed, and the exit code. */
async function runCli(
  o: Partial<ImportCliOptions> = {},
  to: TestHub = target,
): Promise<{ code: number; summary: ImportSummary; stderr: string; stdout: string }> {
  let stdout = '';
  let stderr = '';
  const code = await importCommand(
    {
      from: source.http,
      key: source.key,
      hub: to.http,
      hubKey: to.key,
      dataDir: to.dataDir,
      json: true,
      ...o,
    },
    { out: (s) => void (stdout += s), err: (s) => void (stderr += s) },
  );
  const summary = (o.json === false ? null : JSON.parse(stdout)) as ImportSummary;
  return { code, summary, stderr, stdout };
}

beforeEach(async () => {
  source = await startTestHub();
  target = await startTestHub();
  cleanups.push(
    () => source.stop(),
    () => target.stop(),
  );
  await source.createDevice({ id: 'd1', name: 'Pump' });
  await ok(source, 'POST', '/api/v2/devices/d1', {
    acl: ACL,
    shadow: {
      state: { desired: { led: 1, cfg: { rate: 5 } }, reported: { temp: 21.5 } },
      tags: { labels: 'site-a' },
    },
  });
  await source.createDevice({ id: 'd2' });
  await ok(source, 'POST', '/api/v2/customers/c1', {
    email: 'alice@example.com',
    pubkeys: { 'pk-d1': { name: 'pump' } },
    cconfig: { theme: 'dark' },
  });
  await rows(source, 'CREATE TABLE readings (id INTEGER PRIMARY KEY, v REAL, note TEXT)');
  await rows(source, 'CREATE INDEX readings_v ON readings (v)');
  for (let i = 1; i <= 5; i++) {
    await ok(source, 'POST', '/api/v2/sql/exec', {
      query: 'INSERT INTO readings (v, note) VALUES (?, ?)',
      params: [i * 1.5, `n${i}`],
    });
    await ok(source, 'POST', '/api/v2/sql/exec', {
      query: "INSERT INTO data (device_id, topic, message) VALUES ('d1', 't', ?)",
      params: [JSON.stringify({ i })],
    });
  }
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('fleetbench import', () => {
  it('copies devices, customers and data; the device logs in to the target; a rerun changes nothing', async () => {
    const first = await runCli();
    expect(first.code).toBe(0);
    expect(first.summary.counts.devices).toMatchObject({ created: 2, failed: 0 });
    expect(first.summary.counts.customers).toMatchObject({ created: 1, failed: 0 });
    expect(first.summary.counts.rows).toMatchObject({ created: 10, failed: 0 });
    expect(first.stdout).not.toContain(source.key);
    expect(first.stderr).not.toContain(source.key);

    const before = await ok<DeviceObject>(source, 'GET', '/api/v2/devices/d1');
    const after = await ok<DeviceObject>(target, 'GET', '/api/v2/devices/d1');
    expect(after.token).toBe(before.token);
    expect(after.name).toBe('Pump');
    expect(after.acl).toEqual(before.acl);
    expect(after.shadow.state.desired).toEqual(before.shadow.state.desired);
    expect(after.shadow.state.reported).toEqual(before.shadow.state.reported);
    expect(after.shadow.tags).toEqual(before.shadow.tags);

    // The device, with its old id and password, now talks to the target.
    const dev = await connectOnline(target, { id: 'd1', token: before.token });
    cleanups.push(() => dev.ws.close());

    const [c] = await ok<
      Array<{ id: string; email: string; token: string; pubkeys: unknown; cconfig: unknown }>
    >(source, 'GET', '/api/v2/customers');
    const local = await ok<{ email: string; token: string; pubkeys: unknown; cconfig: unknown }>(
      target,
      'GET',
      '/api/v2/customers/c1',
    );
    expect(local).toMatchObject({
      email: c?.email,
      token: c?.token,
      pubkeys: c?.pubkeys,
      cconfig: c?.cconfig,
    });
    // The customer's old key signs in on the target.
    const me = await fetch(`${target.http}/customer?access_token=${c?.token ?? ''}`);
    expect(me.status).toBe(200);

    const q = 'SELECT id, v, note FROM readings ORDER BY id';
    expect(await rows(target, q)).toEqual(await rows(source, q));
    const d = "SELECT device_id, topic, message FROM data WHERE topic = 't' ORDER BY message";
    expect(await rows(target, d)).toEqual(await rows(source, d));
    expect(await rows(target, "SELECT name FROM sqlite_master WHERE name = 'readings_v'")).toEqual([
      ['readings_v'],
    ]);

    // Second run: the device is online here now (hub-owned keys differ, rows were added to data
    // by its login): still nothing to do.
    const second = await runCli({ json: false });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('nothing to do');
    const third = await runCli();
    for (const kind of ['devices', 'customers', 'tables', 'rows'] as const) {
      expect(third.summary.counts[kind], kind).toMatchObject({
        created: 0,
        updated: 0,
        failed: 0,
        skipped: 0,
      });
    }
    expect(await rows(target, d)).toEqual(await rows(source, d));
    expect((await rows(target, 'SELECT count(*) FROM readings'))[0]?.[0]).toBe(5);

    // New rows at the source are appended by the next run, and only they.
    await ok(source, 'POST', '/api/v2/sql/exec', {
      query: "INSERT INTO readings (v, note) VALUES (9, 'new')",
    });
    const fourth = await runCli();
    expect(fourth.summary.counts.rows.created).toBe(1);
    expect(await rows(target, q)).toEqual(await rows(source, q));
  });

  it('a dry run prints the plan and writes nothing', async () => {
    const dry = await runCli({ dryRun: true, json: false }).catch((e: unknown) => {
      throw e;
    });
    expect(dry.stdout).toMatch(/device d1: would create/);
    expect(dry.stdout).toMatch(/customer c1: would create/);
    expect(dry.stdout).toMatch(/table readings: would create/);
    expect(dry.stdout).toContain('dry run, nothing written');
    expect((await ok<unknown[]>(target, 'GET', '/api/v2/devices')).length).toBe(0);
    expect((await ok<unknown[]>(target, 'GET', '/api/v2/customers')).length).toBe(0);
    expect(
      await rows(
        target,
        "SELECT name FROM sqlite_master WHERE name IN ('readings', 'fleetbench_import')",
      ),
    ).toEqual([]);
  }, 20_000);

  it('reports a local device with another password as a conflict; --overwrite replaces it', async () => {
    await target.createDevice({ id: 'd1', name: 'someone else' });
    const skipped = await runCli();
    expect(skipped.code).toBe(3);
    expect(skipped.summary.items).toContainEqual(
      expect.objectContaining({
        kind: 'devices',
        id: 'd1',
        outcome: 'skipped',
        reason: expect.stringMatching(/--overwrite/),
      }),
    );
    const theirs = await ok<DeviceObject>(source, 'GET', '/api/v2/devices/d1');
    expect((await ok<DeviceObject>(target, 'GET', '/api/v2/devices/d1')).token).not.toBe(
      theirs.token,
    );

    const replaced = await runCli({ overwrite: true });
    expect(replaced.code).toBe(0);
    const now = await ok<DeviceObject>(target, 'GET', '/api/v2/devices/d1');
    expect(now.token).toBe(theirs.token);
    expect(now.acl).toEqual(theirs.acl);
  });

  it('an email that differs only in case and spaces is the local customer with it, as the REST API says', async () => {
    // mdash.net-like source: it keeps emails as typed. A proxy in front of the source hub lists
    // its customer c1 with the email "  Alice@Example.COM ".
    const proxy = createServer((req, res) => {
      const up = request(
        `${source.http}${req.url ?? '/'}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          if (!(req.method === 'GET' && req.url === '/api/v2/customers')) {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            return;
          }
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const list = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{
              email: string;
            }>;
            for (const c of list)
              c.email = `  ${c.email.replace('alice@example.com', 'Alice@Example.COM')} `;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(list));
          });
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => proxy.close(() => r())));
    const from = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    // The target already has alice@example.com, under another id.
    await ok(target, 'POST', '/api/v2/customers/c0', { email: 'alice@example.com' });
    const r = await runCli({ from });
    expect(r.summary.items).toContainEqual(
      expect.objectContaining({
        kind: 'customers',
        id: 'c1',
        outcome: 'skipped',
        reason: expect.stringMatching(/'c0' has this email/),
      }),
    );
    expect(r.code).toBe(3);
    expect((await ok<unknown[]>(target, 'GET', '/api/v2/customers')).length).toBe(1);
  });

  it('pages devices and rows at the limits, and batches INSERTs by parameter count', async () => {
    for (let i = 0; i < 3; i++) await source.createDevice({ id: `p${i}` });
    const lines: string[] = [];
    const s = await runImport(
      endpointFrom(source.http, source.key),
      endpointFrom(target.http, target.key),
      {
        dryRun: false,
        overwrite: false,
        // 2 devices and 2 rows a page; 4 params: one 3-column row per INSERT.
        limits: { ...DEFAULT_IMPORT, devicePage: 2, rowPage: 2, maxParams: 4 },
        progress: (l) => lines.push(l),
      },
    );
    expect(s.counts.devices.created).toBe(5);
    expect(s.counts.rows).toMatchObject({ created: 10, failed: 0 });
    expect(lines.some((l) => l.startsWith('data: readings'))).toBe(true);
    const q = 'SELECT id, v, note FROM readings ORDER BY id';
    expect(await rows(target, q)).toEqual(await rows(source, q));
  });

  it('refuses a bad source key, an unreachable source and a server that is not mDash-compatible', async () => {
    const code = async (o: Partial<ImportCliOptions>): Promise<number> => {
      try {
        await runCli(o);
      } catch (err) {
        expect(err).toBeInstanceOf(HubError);
        expect((err as Error).message).not.toContain('wrong-key');
        return (err as HubError).code;
      }
      return 0;
    };
    expect(await code({ key: 'wrong-key' })).toBe(4016);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await code({ from: `http://127.0.0.1:${port}` })).toBe(5025);

    const bodies = ['<html>hello</html>', '{"devices":"nope"}', '[{"id":"x"}]'];
    for (const body of bodies) {
      const other: Server = createServer((_req, res) => res.end(body));
      await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
      cleanups.push(() => new Promise<void>((r) => other.close(() => r())));
      const p = (other.address() as AddressInfo).port;
      expect(await code({ from: `http://127.0.0.1:${p}` }), body).toBe(5026);
    }
    // Nothing was written on the way.
    expect((await ok<unknown[]>(target, 'GET', '/api/v2/devices')).length).toBe(0);
  });
});
