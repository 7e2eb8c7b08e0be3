/**
 * Customer web apps (issue 10, PROTOCOL.md 4) against a real hub on port 0 with http and https
 * listeners: upload as multipart and as a raw body, top-folder stripping, hostile and oversize
 * zips refused with their codes (and nothing left behind), serving with content types, redirects,
 * cache headers and path traversal attempts, list and delete, and the built-in app.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_APPS } from '../../../src/main/config';
import { AppStore } from '../../../src/main/customers/app-store';
import { DEFAULT_APP_ID } from '../../../src/shared/customer-app';
import type { AppObject } from '../../../src/shared/apps';
import { startTestHub, type ErrorBody, type TestHub } from '../../support/hub-harness';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET with the path sent exactly as written (fetch would normalize `..` away). */
function rawGet(base: string, path: string, ca?: Buffer): Promise<Raw> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const opts = { host: u.hostname, port: u.port, path, method: 'GET', ...(ca && { ca }) };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const SAMPLE: Zippable = {
  'index.html': enc('<!doctype html><title>t</title><script src="app.js"></script>'),
  'app.js': enc('console.log(1)'),
  'mod.mjs': enc('export {}'),
  'style.css': enc('body{}'),
  'data.json': enc('{}'),
  'icon.svg': enc('<svg xmlns="http://www.w3.org/2000/svg"/>'),
  'icon.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
  'photo.jpg': new Uint8Array([0xff, 0xd8]),
  'favicon.ico': new Uint8Array([0, 0, 1, 0]),
  'manifest.webmanifest': enc('{"name":"t"}'),
  'lib.wasm': new Uint8Array([0, 0x61, 0x73, 0x6d]),
  'notes.txt': enc('hi'),
  'app.js.map': enc('{}'),
  'font.woff2': new Uint8Array([0x77, 0x4f, 0x46, 0x32]),
  'blob.weird': new Uint8Array([1, 2, 3]),
  'sub/index.html': enc('<p>sub</p>'),
  'sub/deep/x.js': enc('1'),
};

describe('customer web apps (real hub, http and https)', () => {
  let t: TestHub;
  let https: string;
  let ca: Buffer;

  const upload = async (
    zip: Uint8Array,
    how: 'multipart' | 'raw' = 'multipart',
    contentType = 'application/zip',
  ): Promise<{ status: number; body: unknown }> => {
    const headers: Record<string, string> = { authorization: `Bearer ${t.key}` };
    let body: FormData | Blob;
    if (how === 'multipart') {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(zip)]), 'app.zip');
      body = form;
    } else {
      headers['content-type'] = contentType;
      body = new Blob([new Uint8Array(zip)]);
    }
    const res = await fetch(`${t.http}/api/v2/m`, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  const uploadOk = async (zip: Uint8Array, how: 'multipart' | 'raw' = 'multipart') => {
    const r = await upload(zip, how);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as AppObject;
  };

  const errorOf = (r: { body: unknown }) => (r.body as ErrorBody).error;

  const appsOnDisk = () => readdirSync(join(t.dataDir, 'apps'));

  beforeAll(async () => {
    t = await startTestHub({
      tlsPort: 0,
      apps: { maxZipBytes: 256 * 1024, maxUnpackedBytes: 1024 * 1024, maxFiles: 50, maxApps: 4 },
    });
    const urls = t.hub.urls();
    https = urls.https ?? '';
    ca = readFileSync(urls.caPath ?? '');
  });

  afterAll(() => t.stop());

  it('takes a multipart zip and serves every file with its content type and nosniff', async () => {
    const app = await uploadOk(zipSync(SAMPLE));
    expect(app.app_id).toMatch(/^[a-z0-9]{12}$/);
    expect(app.files).toBe(Object.keys(SAMPLE).length);
    expect(app.builtin).toBe(false);
    const types: Record<string, string> = {
      '': 'text/html; charset=utf-8',
      'index.html': 'text/html; charset=utf-8',
      'app.js': 'text/javascript; charset=utf-8',
      'mod.mjs': 'text/javascript; charset=utf-8',
      'style.css': 'text/css; charset=utf-8',
      'data.json': 'application/json; charset=utf-8',
      'icon.svg': 'image/svg+xml',
      'icon.png': 'image/png',
      'photo.jpg': 'image/jpeg',
      'favicon.ico': 'image/x-icon',
      'manifest.webmanifest': 'application/manifest+json; charset=utf-8',
      'lib.wasm': 'application/wasm',
      'notes.txt': 'text/plain; charset=utf-8',
      'app.js.map': 'application/json; charset=utf-8',
      'font.woff2': 'font/woff2',
      'blob.weird': 'application/octet-stream',
      'sub/': 'text/html; charset=utf-8',
      'sub/deep/x.js': 'text/javascript; charset=utf-8',
    };
    for (const [file, type] of Object.entries(types)) {
      const r = await rawGet(t.http, `/a/${app.app_id}/${file}`);
      expect(r.status, file).toBe(200);
      expect(r.headers['content-type'], file).toBe(type);
      expect(r.headers['x-content-type-options'], file).toBe('nosniff');
      expect(r.headers['referrer-policy'], file).toBe('no-referrer');
      const want = SAMPLE[file === '' ? 'index.html' : file === 'sub/' ? 'sub/index.html' : file];
      expect(new Uint8Array(r.body), file).toEqual(want);
      expect(Number(r.headers['content-length']), file).toBe(r.body.length);
    }
    const page = await rawGet(t.http, `/a/${app.app_id}/`);
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await rawGet(t.http, `/a/${app.app_id}/app.js`);
    expect(asset.headers['cache-control']).toBe('public, max-age=3600');
    // Revalidation: the ETag gives a 304 without the body.
    const again = await fetch(`${t.http}/a/${app.app_id}/`, {
      headers: { 'if-none-match': String(page.headers['etag']) },
    });
    expect(again.status).toBe(304);
  });

  it('serves the same app over https (the TLS listener routes into the same app)', async () => {
    const app = await uploadOk(zipSync({ 'index.html': enc('<p>tls</p>') }));
    const r = await rawGet(https, `/a/${app.app_id}/`, ca);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('<p>tls</p>');
    const redirect = await rawGet(https, `/a/${app.app_id}`, ca);
    expect(redirect.status).toBe(301);
    expect(redirect.headers['location']).toBe(`/a/${app.app_id}/`);
    await t.api('DELETE', `/api/v2/m/${app.app_id}`);
  });

  it('takes the zip as a raw body (application/zip, octet-stream, curl --data-binary)', async () => {
    for (const type of [
      'application/zip',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
    ]) {
      const r = await upload(zipSync({ 'index.html': enc(type) }), 'raw', type);
      expect(r.status, type).toBe(200);
      const id = (r.body as AppObject).app_id;
      expect((await rawGet(t.http, `/a/${id}/`)).body.toString()).toBe(type);
      expect((await t.api('DELETE', `/api/v2/m/${id}`)).status).toBe(200);
    }
  });

  it('strips one top folder (zip -r app.zip myapp/), ignoring macOS __MACOSX junk', async () => {
    const app = await uploadOk(
      zipSync({
        'myapp/index.html': enc('top'),
        'myapp/js/a.js': enc('a'),
        '__MACOSX/myapp/._index.html': enc('junk'),
      }),
      'raw',
    );
    expect(app.files).toBe(2);
    expect((await rawGet(t.http, `/a/${app.app_id}/`)).body.toString()).toBe('top');
    expect((await rawGet(t.http, `/a/${app.app_id}/js/a.js`)).body.toString()).toBe('a');
    expect((await rawGet(t.http, `/a/${app.app_id}/myapp/index.html`)).status).toBe(404);
    expect((await rawGet(t.http, `/a/${app.app_id}/__MACOSX/myapp/._index.html`)).status).toBe(404);
    await t.api('DELETE', `/api/v2/m/${app.app_id}`);
  });

  it('redirects /a/<id> and a folder without its slash, keeping the query (the invite token)', async () => {
    const app = await uploadOk(zipSync({ 'index.html': enc('x'), 'sub/index.html': enc('s') }));
    const r = await rawGet(t.http, `/a/${app.app_id}?tok+en=1`);
    expect(r.status).toBe(301);
    expect(r.headers['location']).toBe(`/a/${app.app_id}/?tok+en=1`);
    const sub = await rawGet(t.http, `/a/${app.app_id}/sub`);
    expect(sub.status).toBe(301);
    expect(sub.headers['location']).toBe(`/a/${app.app_id}/sub/`);
    await t.api('DELETE', `/api/v2/m/${app.app_id}`);
  });

  it('refuses path traversal in every spelling with a coded 404', async () => {
    const app = await uploadOk(zipSync({ 'index.html': enc('x'), 'sub/a.txt': enc('a') }));
    const id = app.app_id;
    const attempts = [
      `/a/${id}/../../master.key`,
      `/a/${id}/sub/../../${id}/index.html`,
      `/a/${id}/%2e%2e/%2e%2e/master.key`,
      `/a/${id}/%2E%2E%2F%2E%2E%2Fmaster.key`,
      `/a/${id}/..%2fmaster.key`,
      `/a/${id}/..%5cmaster.key`,
      `/a/${id}/sub\\..\\..\\master.key`,
      `/a/${id}/index.html%00.js`,
      `/a/${id}/sub//a.txt`,
      `/a/${id}/./index.html`,
      `/a/..%2f..%2fmaster.key/x`,
      `/a/%2e%2e/master.key`,
    ];
    for (const path of attempts) {
      const r = await rawGet(t.http, path);
      expect(r.status, path).toBe(404);
      expect(r.body.toString(), path).not.toContain('-----');
      const code = (JSON.parse(r.body.toString()) as ErrorBody).error.code;
      expect([404, 4040], path).toContain(code);
    }
    // Broken percent-encoding is refused by the router before any file is looked at.
    expect((await rawGet(t.http, `/a/${id}/%`)).status).toBe(400);
    const missing = await rawGet(t.http, `/a/${id}/nope.js`);
    expect(missing.status).toBe(404);
    expect((JSON.parse(missing.body.toString()) as ErrorBody).error.code).toBe(404);
    const noApp = await rawGet(t.http, `/a/zzzzzzzzzzzz/`);
    expect((JSON.parse(noApp.body.toString()) as ErrorBody).error.code).toBe(4040);
    await t.api('DELETE', `/api/v2/m/${id}`);
  });

  it('refuses a zip without index.html, a zip slip, a bomb, an oversize zip and junk bytes', async () => {
    const before = appsOnDisk().sort();
    const noIndex = await upload(zipSync({ 'app.js': enc('1') }));
    expect(noIndex.status).toBe(400);
    expect(errorOf(noIndex).code).toBe(4006);
    expect(errorOf(noIndex).message).toContain('index.html');
    // Two top folders: neither is the app.
    const twoTops = await upload(zipSync({ 'a/index.html': enc('1'), 'b/index.html': enc('2') }));
    expect(errorOf(twoTops).code).toBe(4006);

    const slip = await upload(zipSync({ 'index.html': enc('x'), '../../evil.html': enc('x') }));
    expect(slip.status).toBe(400);
    expect(errorOf(slip).code).toBe(4006);
    expect(errorOf(slip).message).toContain('unsafe');

    // 2 MB of zeros deflate to a few KB: under the zip cap, over the 1 MB unpacked cap.
    const bomb = await upload(
      zipSync({ 'index.html': enc('x'), 'zeros.bin': new Uint8Array(2 * 1024 * 1024) }),
    );
    expect(bomb.status).toBe(413);
    expect(errorOf(bomb).code).toBe(4133);

    const noise = new Uint8Array(300 * 1024).map((_, i) => (i * 7919) % 251);
    const big = await upload(zipSync({ 'index.html': noise }, { level: 0 }), 'raw');
    expect(big.status).toBe(413);
    expect(errorOf(big).code).toBe(413);

    const junk = await upload(enc('this is not a zip at all'), 'raw');
    expect(junk.status).toBe(400);
    expect(errorOf(junk).code).toBe(4006);

    const empty = await upload(new Uint8Array(0), 'raw');
    expect(empty.status).toBe(400);

    // Nothing half-written stays behind: no temp files, no new app folders.
    expect(appsOnDisk().sort()).toEqual(before);
  });

  it('accepts a zip exactly at the caps and refuses one byte or one file more', async () => {
    // Unpacked bytes: 1 MB in all is fine, one more byte is a bomb.
    const exact = new Uint8Array(1024 * 1024 - 1).fill(65);
    const app = await uploadOk(zipSync({ 'index.html': enc('x'), 'a.txt': exact }));
    expect(app.bytes).toBe(1024 * 1024);
    await t.api('DELETE', `/api/v2/m/${app.app_id}`);
    const over = await upload(zipSync({ 'index.html': enc('xy'), 'a.txt': exact }));
    expect(errorOf(over).code).toBe(4133);

    // Zip bytes: stored (level 0) entries make the archive size exact.
    const sized = (n: number) => {
      const overhead = zipSync({ 'index.html': new Uint8Array(0) }, { level: 0 }).length;
      const zip = zipSync({ 'index.html': new Uint8Array(n - overhead).fill(66) }, { level: 0 });
      expect(zip.length).toBe(n);
      return zip;
    };
    const atCap = await uploadOk(sized(256 * 1024), 'raw');
    await t.api('DELETE', `/api/v2/m/${atCap.app_id}`);
    const pastCap = await upload(sized(256 * 1024 + 1), 'raw');
    expect(pastCap.status).toBe(413);
    expect(errorOf(pastCap).code).toBe(413);

    // Files: 50 are fine, 51 are refused before anything inflates.
    const files = (n: number): Zippable => {
      const z: Zippable = { 'index.html': enc('x') };
      for (let i = 1; i < n; i++) z[`f${i}.txt`] = enc(String(i));
      return z;
    };
    const fifty = await uploadOk(zipSync(files(50)));
    expect(fifty.files).toBe(50);
    await t.api('DELETE', `/api/v2/m/${fifty.app_id}`);
    const many = await upload(zipSync(files(51)));
    expect(many.status).toBe(400);
    expect(errorOf(many).code).toBe(4006);
    expect(errorOf(many).message).toContain('more than the 50');
  });

  it('sweeps what an upload cut short by a crash left behind, at the next start', () => {
    const apps = join(t.dataDir, 'apps');
    mkdirSync(join(apps, '.incoming-deadbeef', 'js'), { recursive: true });
    writeFileSync(join(apps, '.incoming-deadbeef', 'js', 'a.js'), '1');
    writeFileSync(join(apps, '.incoming-0123'), 'partial zip');
    mkdirSync(join(apps, '.deleting-42'));
    new AppStore(t.dataDir, DEFAULT_APPS, null);
    expect(appsOnDisk().filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('lists apps (built-in first), deletes one, refuses the built-in and past maxApps', async () => {
    const start = await t.api<AppObject[]>('GET', '/api/v2/m');
    expect(start.status).toBe(200);
    expect(start.body[0]).toMatchObject({ app_id: DEFAULT_APP_ID, builtin: true });
    const existing = start.body.length - 1;
    const made: string[] = [];
    for (let i = existing; i < 4; i++) {
      made.push((await uploadOk(zipSync({ 'index.html': enc(String(i)) }))).app_id);
    }
    const full = await upload(zipSync({ 'index.html': enc('one too many') }));
    expect(full.status).toBe(413);
    expect(errorOf(full).code).toBe(4137);

    const listed = await t.api<AppObject[]>('GET', '/api/v2/m');
    expect(listed.body.length).toBe(5);
    const one = listed.body.find((a) => a.app_id === made[0]);
    expect(one).toMatchObject({ files: 1, bytes: 1, builtin: false });
    expect(Math.abs((one?.created ?? 0) - Date.now() / 1000)).toBeLessThan(60);

    const builtin = await t.api<ErrorBody>('DELETE', `/api/v2/m/${DEFAULT_APP_ID}`);
    expect(builtin.status).toBe(409);
    expect(builtin.body.error.code).toBe(4090);

    for (const id of made) {
      const del = await t.api('DELETE', `/api/v2/m/${id}`);
      expect(del.status).toBe(200);
      expect(del.body).toBe(true);
      expect((await rawGet(t.http, `/a/${id}/`)).status).toBe(404);
    }
    const gone = await t.api<ErrorBody>('DELETE', `/api/v2/m/${made[0]}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe(4040);
    const bad = await t.api<ErrorBody>('DELETE', '/api/v2/m/..%2f..');
    expect(bad.status).toBe(400);
  });

  it('needs the master key to upload, list and delete; serving needs none', async () => {
    expect((await t.api('GET', '/api/v2/m', undefined, null)).status).toBe(401);
    const res = await fetch(`${t.http}/api/v2/m`, {
      method: 'POST',
      headers: { 'content-type': 'application/zip' },
      body: new Blob([zipSync({ 'index.html': enc('x') })]),
    });
    expect(res.status).toBe(401);
    expect((await t.api('DELETE', '/api/v2/m/abc', undefined, null)).status).toBe(401);
    const routes = t.hub.routes.filter((r) => r.url === '/api/v2/m' || r.url.startsWith('/a/'));
    expect(routes.map((r) => `${r.method} ${r.url} ${r.auth}`).sort()).toEqual([
      'GET /a/:app_id none',
      'GET /a/:app_id/* none',
      'GET /api/v2/m master',
      'POST /api/v2/m master',
    ]);
  });

  it('serves the built-in app at /a/default/ over http and https', async () => {
    for (const [base, c] of [
      [t.http, undefined],
      [https, ca],
    ] as const) {
      const page = await rawGet(base, `/a/${DEFAULT_APP_ID}/`, c);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.body.toString()).toContain('<!doctype html>');
    }
    const redirect = await rawGet(t.http, `/a/${DEFAULT_APP_ID}?abc`);
    expect(redirect.headers['location']).toBe(`/a/${DEFAULT_APP_ID}/?abc`);
  });
});
