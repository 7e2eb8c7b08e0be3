/**
 * Backup and restore end to end (issue 12) with real hubs on port 0, real SQLite files and the
 * real CLI: hub A with devices, shadows, data rows, firmware and an app is backed up over REST,
 * restored into a stopped hub B's data dir by `fleetbench restore`, and into a running hub C by
 * `POST /api/v2/restore` (C restarts on the same port). Both then hold A's devices (ids,
 * passwords: a device logs in with its old password), shadows, rows, firmware and apps.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceObject, LogEntry } from '../../../src/shared/types';
import type { BackupManifest, RestoreResult } from '../../../src/shared/lan';
import type { FirmwareObject } from '../../../src/shared/firmware';
import type { AppObject } from '../../../src/shared/apps';
import { readHubLock } from '../../../src/main/backup/hub-lock';
import { extractBackup } from '../../../src/main/backup/restore-reader';
import { DEFAULT_BACKUP } from '../../../src/main/config';
import {
  RawDevice,
  deviceUrl,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import { runCli } from '../../support/cli-runner';
import { espAppImage } from '../../unit/firmware/craft-zip';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const work = mkdtempSync(join(tmpdir(), 'fb-backup-'));
const ROWS = 500;
/** The CLI from the sources: a stale `out/` build would not know the commands under test. */
const SRC = { FLEETBENCH_FROM_SOURCE: '1' };

let a: TestHub;
const devices: DeviceObject[] = [];
let archive = '';

async function post(t: TestHub, path: string, body: BodyInit, type?: string): Promise<Response> {
  return fetch(t.http + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.key}`, ...(type && { 'content-type': type }) },
    body,
  });
}

/** What a restored hub must show: A's devices, shadows, rows, firmware and apps. */
async function expectSameAsA(t: TestHub): Promise<void> {
  const list = await t.api<DeviceObject[]>('GET', '/api/v2/devices');
  expect(list.body.map((d) => d.id).sort()).toEqual(devices.map((d) => d.id).sort());
  const shadow = await t.api<{ state: { desired: Record<string, unknown> } }>(
    'GET',
    `/api/v2/devices/${devices[0]?.id}/shadow`,
  );
  expect(shadow.body.state.desired).toEqual({ led: 'on', n: 0 });
  const rows = await t.api<{ rows: unknown[][] }>('POST', '/api/v2/sql/exec', {
    query: 'SELECT count(*) FROM data',
  });
  expect(rows.body.rows[0]?.[0]).toBe(ROWS);
  const fw = await t.api<FirmwareObject[]>('GET', '/api/v2/firmware');
  expect(fw.body).toHaveLength(1);
  const file = await fetch(`${t.http}/api/v2/firmware/${fw.body[0]?.id}/file`, {
    headers: { authorization: `Bearer ${t.key}` },
  });
  expect(file.status).toBe(200);
  // The notification log (log.db) came along: A's `created` entries, none of the hub's before.
  const created = await t.api<LogEntry[]>('POST', '/api/v2/logs', { name: 'created', limit: 100 });
  expect(created.body.map((e) => e.id).sort()).toEqual(devices.map((d) => d.id).sort());
  const apps = await t.api<AppObject[]>('GET', '/api/v2/m');
  const uploaded = apps.body.filter((x) => !x.builtin);
  expect(uploaded).toHaveLength(1);
  const page = await fetch(`${t.http}/a/${uploaded[0]?.app_id}/index.html`);
  expect(await page.text()).toContain('restored app');
  // A device logs in with the password it had on hub A.
  const dev = devices[1] as DeviceObject;
  const raw = await RawDevice.connect(deviceUrl(t), {
    headers: { authorization: `Bearer ${dev.token}` },
  });
  await raw.answerGetInfo();
  await waitFor(() => t.hub.services().gateway.isOnline(dev.id));
  raw.ws.close();
}

beforeAll(async () => {
  a = await startTestHub();
  for (let i = 0; i < 5; i++) devices.push(await a.createDevice({ name: `dev-${i}` }));
  for (const [i, d] of devices.entries()) {
    const r = await a.api('POST', `/api/v2/devices/${d.id}`, {
      shadow: { state: { desired: { led: 'on', n: i } } },
    });
    expect(r.status).toBe(200);
  }
  const values = Array.from(
    { length: ROWS },
    (_, i) => `('${devices[i % 5]?.id}', 't', '{"i":${i}}')`,
  );
  const ins = await a.api('POST', '/api/v2/sql/exec', {
    query: `INSERT INTO data (device_id, topic, message) VALUES ${values.join(',')}`,
  });
  expect(ins.status).toBe(200);
  const form = new FormData();
  form.append(
    'file',
    new Blob([new Uint8Array(espAppImage({ chipId: 0, version: 'v9' }))]),
    'app.bin',
  );
  expect((await post(a, '/api/v2/firmware', form)).status).toBeLessThan(300);
  const app = zipSync({ 'index.html': enc('<!doctype html><p>restored app</p>') });
  expect((await post(a, '/api/v2/m', app, 'application/zip')).status).toBe(200);
}, 30_000);

afterAll(async () => {
  await a.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('POST /api/v2/backup', () => {
  it('streams a zip with Content-Length and a dated file name, then removes its temp files', async () => {
    const res = await post(a, '/api/v2/backup', '');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="fleetbench-backup-\d{4}-\d\d-\d\d-\d{6}\.zip"$/,
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(Number(res.headers.get('content-length')));
    archive = join(work, 'a.zip');
    writeFileSync(archive, bytes);
    await waitFor(() => readdirSync(join(a.dataDir, 'backup-tmp')).length === 0);
    // The archive verifies and lists what the data dir holds, secrets marked.
    const out = join(work, 'check');
    const m: BackupManifest = await extractBackup(archive, out, DEFAULT_BACKUP);
    expect(m.counts).toEqual({ devices: 5, customers: 0, firmware: 1, apps: 1 });
    const paths = m.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['fleetbench.db', 'account.db', 'master.key']));
    expect(paths.some((p) => p.startsWith('firmware/'))).toBe(true);
    expect(paths.some((p) => p.startsWith('apps/') && p.endsWith('/index.html'))).toBe(true);
    expect(paths.some((p) => p.includes('-wal') || p === 'hub.lock')).toBe(false);
    expect(m.files.find((f) => f.path === 'master.key')?.secret).toBe(true);
  });

  it('needs the master key', async () => {
    const res = await fetch(`${a.http}/api/v2/backup`, { method: 'POST' });
    expect(res.status).toBe(401);
  });
});

describe('fleetbench backup / restore (CLI)', () => {
  it('backs up a running hub through its REST API (found by hub.lock) into <file>', async () => {
    expect(readHubLock(a.dataDir)?.port).toBe(Number(new URL(a.http).port));
    const file = join(work, 'cli.zip');
    const r = await runCli(['backup', file, '--data-dir', a.dataDir], SRC, 60_000);
    expect(r.stderr).toContain('saved');
    expect(r.code).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.part`)).toBe(false);
  }, 70_000);

  it('refuses to restore into the data dir of a running hub (4232)', async () => {
    const r = await runCli(['restore', archive, '--data-dir', a.dataDir], SRC, 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('4232');
  }, 70_000);

  it("restores into a stopped hub B, which then has A's devices, rows, firmware and apps", async () => {
    const b0 = await startTestHub();
    const bDir = b0.dataDir;
    await b0.createDevice({ name: 'only-on-b' });
    await b0.hub.stop();
    // A stopped hub is backed up from its files.
    const cold = join(work, 'cold.zip');
    const bk = await runCli(['backup', cold, '--data-dir', bDir], SRC, 60_000);
    expect(bk.stderr).toContain('no hub runs on');
    expect(bk.code).toBe(0);
    const coldManifest = await extractBackup(cold, join(work, 'cold'), DEFAULT_BACKUP);
    expect(coldManifest.counts.devices).toBe(1);
    expect(coldManifest.files.map((f) => f.path)).toContain('log.db');
    const r = await runCli(['restore', archive, '--data-dir', bDir], SRC, 60_000);
    expect(r.stderr + r.stdout).toContain('restored 5 devices');
    expect(r.code).toBe(0);
    const before = readdirSync(join(bDir, '..')).filter((n) =>
      n.startsWith(`${bDir.split('/').pop()}.before-restore-`),
    );
    expect(before).toHaveLength(1);
    const b = await startTestHub({ dataDir: bDir });
    try {
      expect(b.key).toBe(a.key); // master.key came along
      await expectSameAsA(b);
    } finally {
      await b.stop();
      rmSync(bDir, { recursive: true, force: true });
      for (const n of before) rmSync(join(bDir, '..', n), { recursive: true, force: true });
    }
  }, 70_000);
});

describe('POST /api/v2/restore', () => {
  it('verifies, answers, then restarts the running hub on the restored data, same port', async () => {
    const c = await startTestHub();
    try {
      await c.createDevice({ name: 'only-on-c' });
      const port = new URL(c.http).port;
      const body = new FormData();
      body.append('file', new Blob([new Uint8Array(readFileSync(archive))]), 'a.zip');
      const res = await post(c, '/api/v2/restore', body);
      const answer = (await res.json()) as RestoreResult;
      expect(res.status).toBe(200);
      expect(answer.applied).toBe(true);
      expect(answer.manifest.counts.devices).toBe(5);
      // The hub comes back on the same port with A's data and A's master key.
      await waitFor(
        async () =>
          (await fetch(`${c.http}/api/v2/hub`, { headers: { authorization: `Bearer ${a.key}` } })
            .then((r) => r.status)
            .catch(() => 0)) === 200,
        15_000,
        'the hub to restart',
      );
      expect(new URL(c.hub.urls().http).port).toBe(port);
      // The replaced data dir is kept where the answer said.
      expect(answer.previous).toMatch(/\.before-restore-/);
      expect(existsSync(join(answer.previous ?? '', 'fleetbench.db'))).toBe(true);
      await expectSameAsA({ ...c, key: a.key, api: withKey(c, a.key) });
    } finally {
      await c.hub.stop();
      rmSync(c.dataDir, { recursive: true, force: true });
      for (const n of readdirSync(join(c.dataDir, '..'))) {
        if (n.startsWith(`${c.dataDir.split('/').pop()}.before-restore-`)) {
          rmSync(join(c.dataDir, '..', n), { recursive: true, force: true });
        }
      }
    }
  }, 30_000);
});

function withKey(t: TestHub, key: string): TestHub['api'] {
  return (method, path, body, k = key) => t.api(method, path, body, k);
}
