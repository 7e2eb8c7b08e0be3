/**
 * Bad input for backup and restore (issue 12): a flipped byte (SHA-256 mismatch), a truncated
 * archive, foreign zips (random zip, fw.zip, not a zip at all), zip-slip and absolute paths, a
 * symlink entry, a newer format version; each refused with code 4227 and a reason, leaving the
 * data dir untouched and nothing beside it. Over REST: an oversized upload (413), two backups at
 * once (409), and a client that goes away mid-download (temp files removed, hub still serving).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../../src/shared/errors';
import { DEFAULT_BACKUP } from '../../../src/main/config';
import { restoreDataDir } from '../../../src/main/backup/restore-service';
import { extractBackup } from '../../../src/main/backup/restore-reader';
import { startTestHub, waitFor, type TestHub } from '../../support/hub-harness';

const work = mkdtempSync(join(tmpdir(), 'fb-backup-bad-'));
let t: TestHub;
let good: Buffer;
let target: string;

/** The data dir a refused restore must leave exactly as it was. */
function makeTarget(): string {
  const dir = join(work, `target-${randomBytes(3).toString('hex')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(join(dir, 'marker'), 'old');
  return dir;
}

async function refusal(bytes: Uint8Array): Promise<{ reason: unknown; message: string }> {
  const file = join(work, `in-${randomBytes(4).toString('hex')}.zip`);
  writeFileSync(file, bytes);
  try {
    await restoreDataDir(file, target, DEFAULT_BACKUP);
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    const e = err as HubError;
    expect(e.code).toBe(4227);
    // Untouched: the old dir, and nothing staged beside it.
    expect(readdirSync(target)).toEqual(['marker']);
    const siblings = readdirSync(dirname(target)).filter(
      (n) => n.startsWith(basename(target)) && n !== basename(target),
    );
    expect(siblings).toEqual([]);
    return { reason: (e.details as { reason?: unknown } | undefined)?.reason, message: e.message };
  }
  throw new Error('the restore was not refused');
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A well-formed archive of our format around the given files (manifest computed honestly). */
function archiveOf(files: Record<string, Uint8Array>, manifestPatch: object = {}): Uint8Array {
  const z: Zippable = {};
  for (const [k, v] of Object.entries(files)) z[k] = v;
  const manifest = {
    format: 'fleetbench-backup',
    version: 1,
    created: 1,
    app_version: 'x',
    files: Object.entries(files).map(([path, v]) => ({ path, size: v.length, sha256: sha(v) })),
    counts: { devices: 0, customers: 0, firmware: 0, apps: 0 },
    ...manifestPatch,
  };
  z['fleetbench-backup.json'] = strToU8(JSON.stringify(manifest));
  return zipSync(z, { level: 0 });
}

beforeAll(async () => {
  t = await startTestHub();
  await t.createDevice({ name: 'd' });
  // A big incompressible file so a download cannot fit in the socket buffers.
  writeFileSync(join(t.dataDir, 'big-settings.bin'), randomBytes(24 * 1024 * 1024));
  const res = await fetch(`${t.http}/api/v2/backup`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.key}` },
  });
  expect(res.status).toBe(200);
  good = Buffer.from(await res.arrayBuffer());
}, 60_000);

afterAll(async () => {
  await t.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('restore refuses a damaged or foreign archive, touching nothing', () => {
  beforeAll(() => {
    target = makeTarget();
  });

  it('a flipped byte: SHA-256 mismatch', async () => {
    const bad = Buffer.from(good);
    // Inside the big stored file: find a run of its bytes and flip one.
    const big = readFileSync(join(t.dataDir, 'big-settings.bin'));
    const at = bad.indexOf(big.subarray(1_000_000, 1_000_032));
    expect(at).toBeGreaterThan(0);
    bad[at] = (bad[at] ?? 0) ^ 0xff;
    const r = await refusal(bad);
    expect(r.reason).toBe('sha_mismatch');
    expect(r.message).toContain('big-settings.bin');
  });

  it('a truncated archive', async () => {
    expect((await refusal(good.subarray(0, Math.floor(good.length / 2)))).reason).toBe('truncated');
    expect((await refusal(good.subarray(0, good.length - 10))).reason).toBe('truncated');
  });

  it('a random zip, a fw.zip, and not a zip at all', async () => {
    expect((await refusal(zipSync({ 'notes.txt': strToU8('hello') }))).reason).toBe('no_manifest');
    const fwZip = zipSync({ 'manifest.json': strToU8('{"name":"demo","parts":{}}') });
    const r = await refusal(fwZip);
    expect(r.reason).toBe('no_manifest');
    expect(r.message).toContain('fleetbench-backup.json');
    expect((await refusal(randomBytes(5000))).reason).toBe('not_zip');
    const foreign = zipSync({ 'fleetbench-backup.json': strToU8('{"format":"other"}') });
    expect((await refusal(foreign)).reason).toBe('foreign');
  });

  it('a manifest whose bytes do not match its CRC-32 (still valid JSON): damaged', async () => {
    const db = strToU8('x');
    const z = Buffer.from(archiveOf({ 'fleetbench.db': db, 'account.db': db }));
    // Stored (level 0): the manifest's JSON is in the archive as it is; change one character.
    const at = z.indexOf('"app_version":"x"');
    expect(at).toBeGreaterThan(0);
    z[at + '"app_version":"'.length] = 'y'.charCodeAt(0);
    const r = await refusal(z);
    expect(r.reason).toBe('truncated');
    expect(r.message).toMatch(/fleetbench-backup\.json is corrupted: CRC-32/);
  });

  it('a newer format version', async () => {
    const db = strToU8('x');
    const r = await refusal(archiveOf({ 'fleetbench.db': db, 'account.db': db }, { version: 2 }));
    expect(r.reason).toBe('version');
  });

  it('zip-slip and absolute paths', async () => {
    const db = strToU8('x');
    for (const evil of ['../evil', 'firmware/../../evil', '/etc/evil', 'a\\..\\evil']) {
      const r = await refusal(archiveOf({ 'fleetbench.db': db, 'account.db': db, [evil]: db }));
      expect(r.reason).toBe('unsafe_path');
    }
    expect(readdirSync(work).some((n) => n === 'evil')).toBe(false);
  });

  it('a symlink entry', async () => {
    const db = strToU8('x');
    const files = { 'fleetbench.db': db, 'account.db': db, link: strToU8('/etc/passwd') };
    const z = archiveOf(files);
    // Re-zip with the link entry marked as a Unix symlink.
    const { unzipSync } = await import('fflate');
    const entries = unzipSync(z);
    const out: Zippable = {};
    for (const [k, v] of Object.entries(entries)) {
      out[k] = k === 'link' ? [v, { os: 3, attrs: (0o120777 << 16) >>> 0 }] : v;
    }
    expect((await refusal(zipSync(out, { level: 0 }))).reason).toBe('symlink');
  });

  it('a file missing from the manifest, or a manifest file missing from the zip', async () => {
    const db = strToU8('x');
    const z = archiveOf({ 'fleetbench.db': db, 'account.db': db });
    const { unzipSync } = await import('fflate');
    const entries = unzipSync(z);
    expect((await refusal(zipSync({ ...entries, extra: db }))).reason).toBe('extra_file');
    const { 'account.db': _gone, ...rest } = entries;
    expect((await refusal(zipSync(rest))).reason).toBe('missing_file');
  });

  it('backup.maxEntries at the edge: as many entries as allowed pass the count', async () => {
    const db = strToU8('x');
    const file = join(work, 'three.zip');
    writeFileSync(file, archiveOf({ 'fleetbench.db': db, 'account.db': db })); // 3 entries
    const reason = async (maxEntries: number): Promise<unknown> =>
      extractBackup(file, join(work, `edge-${maxEntries}`), { ...DEFAULT_BACKUP, maxEntries })
        .then(() => 'ok')
        .catch((e: HubError) => (e.details as { reason?: unknown }).reason);
    expect(await reason(2)).toBe('too_large');
    // Past the count, these fake databases are what stops it.
    expect(await reason(3)).toBe('database');
  });

  it('databases that are not SQLite', async () => {
    const db = strToU8('not a database at all, just text');
    expect((await refusal(archiveOf({ 'fleetbench.db': db, 'account.db': db }))).reason).toBe(
      'database',
    );
  });

  it('a notification log (log.db) that is not SQLite, beside real databases', async () => {
    const real = unzipSync(good);
    const registry = real['fleetbench.db'];
    const account = real['account.db'];
    expect(registry && account && real['log.db']).toBeTruthy();
    const files = {
      'fleetbench.db': registry as Uint8Array,
      'account.db': account as Uint8Array,
      'log.db': strToU8('not a database at all, just text'),
    };
    const r = await refusal(archiveOf(files));
    expect(r.reason).toBe('database');
    expect(r.message).toContain('log.db');
  });
});

describe('REST limits', () => {
  it('an upload over backup.maxRestoreBytes: 413, nothing staged', async () => {
    const small = await startTestHub({ backup: { maxRestoreBytes: 1000 } });
    try {
      const res = await fetch(`${small.http}/api/v2/restore`, {
        method: 'POST',
        headers: { authorization: `Bearer ${small.key}`, 'content-type': 'application/zip' },
        body: new Uint8Array(good.subarray(0, 1001)),
      });
      expect(res.status).toBe(413);
      const at = await fetch(`${small.http}/api/v2/restore`, {
        method: 'POST',
        headers: { authorization: `Bearer ${small.key}`, 'content-type': 'application/zip' },
        body: new Uint8Array(good.subarray(0, 1000)),
      });
      // At the limit the upload is taken, then refused as a (truncated) archive.
      expect(at.status).toBe(422);
      expect(((await at.json()) as { error: { code: number } }).error.code).toBe(4227);
      expect(readdirSync(join(small.dataDir, 'backup-tmp'))).toEqual([]);
    } finally {
      await small.stop();
    }
  });

  it('two backups at once: the second gets 409', async () => {
    const post = (): Promise<Response> =>
      fetch(`${t.http}/api/v2/backup`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}` },
      });
    const [r1, r2] = await Promise.all([post(), post()]);
    const statuses = [r1.status, r2.status].sort();
    expect(statuses).toEqual([200, 409]);
    const conflict = r1.status === 409 ? r1 : r2;
    expect(((await conflict.json()) as { error: { code: number } }).error.code).toBe(409);
    await (r1.status === 200 ? r1 : r2).arrayBuffer();
  }, 30_000);

  it('a client that disconnects mid-download: temp files removed, hub still serving', async () => {
    await new Promise<void>((resolve, reject) => {
      const u = new URL(`${t.http}/api/v2/backup`);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${t.key}` },
        },
        (res) => {
          expect(res.statusCode).toBe(200);
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => {});
      req.once('error', reject);
      req.end();
    });
    await waitFor(() => readdirSync(join(t.dataDir, 'backup-tmp')).length === 0, 10_000);
    expect((await t.api('GET', '/api/v2/hub')).status).toBe(200);
    // And the next backup is not refused as "already running".
    const again = await fetch(`${t.http}/api/v2/backup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  }, 30_000);
});
