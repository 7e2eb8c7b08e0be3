/**
 * The one "multipart `file` or raw body, streamed to a temp file" helper that the app, OTA and
 * restore routes share (api/streamed-upload.ts), on a real Fastify server on port 0: the file
 * lands on disk from either shape, extra parts are ignored (or refused when strict, with what was
 * staged removed), a missing file and an oversized declared body are coded errors.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../src/main/api/error-handler';
import { receiveUpload, type UploadOptions } from '../../../src/main/api/streamed-upload';
import { ingestToTemp } from '../../../src/main/firmware/content-hash';

const dir = mkdtempSync(join(tmpdir(), 'fb-upload-'));
const MAX = 1000;
let app: FastifyInstance;
let base: string;

function route(scope: FastifyInstance, path: string, o: UploadOptions): void {
  scope.post(path, async (req) => {
    const staged = await receiveUpload(
      req,
      {
        stage: async (file, name) => ({ ...(await ingestToTemp(file, dir, MAX, o.what)), name }),
        discard: (s) => rm(s.path, { force: true }),
      },
      o,
    );
    const text = readFileSync(staged.path, 'utf8');
    await rm(staged.path, { force: true });
    return { text, name: staged.name };
  });
}

beforeAll(async () => {
  app = Fastify();
  installErrorHandling(app);
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    await scope.register(multipart, { limits: { fileSize: MAX + 1 } });
    route(scope, '/loose', { what: 'the zip', raw: true, maxBytes: MAX });
    route(scope, '/strict', { what: 'the image', strict: true });
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

function form(parts: Array<[string, string, string?]>): FormData {
  const f = new FormData();
  for (const [field, value, name] of parts) {
    if (name === undefined) f.append(field, value);
    else f.append(field, new Blob([value]), name);
  }
  return f;
}

async function post(
  path: string,
  body: BodyInit,
  type?: string,
): Promise<{ status: number; body: { text?: string; name?: string; error?: { kind?: string } } }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    body,
    ...(type !== undefined && { headers: { 'content-type': type } }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

describe('receiveUpload', () => {
  it('takes the raw body or the multipart file part, ignoring other parts when not strict', async () => {
    expect((await post('/loose', 'raw bytes', 'application/zip')).body.text).toBe('raw bytes');
    const r = await post(
      '/loose',
      form([
        ['note', 'x'],
        ['other', 'ignored', 'o.bin'],
        ['file', 'the file', 'a.zip'],
        ['file', 'second, ignored', 'b.zip'],
      ]),
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ text: 'the file', name: 'a.zip' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('strict: refuses another file field or a second file, removing what was staged', async () => {
    const other = await post('/strict', form([['image', 'x', 'x.bin']]));
    expect(other.status).toBe(400);
    const two = await post(
      '/strict',
      form([
        ['file', 'one', 'a.bin'],
        ['file', 'two', 'b.bin'],
      ]),
    );
    expect(two.status).toBe(400);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('no file part, a body where multipart is required, and a declared body over the limit', async () => {
    expect((await post('/loose', form([['note', 'x']]))).status).toBe(400);
    expect((await post('/strict', 'raw', 'application/octet-stream')).status).toBe(400);
    const big = await post('/loose', 'x'.repeat(MAX + 64 * 1024 + 1), 'application/zip');
    expect(big.status).toBe(413);
    // At the limit the body is read, and the sink's own limit decides.
    expect((await post('/loose', 'x'.repeat(MAX), 'application/zip')).status).toBe(200);
    expect((await post('/loose', 'x'.repeat(MAX + 1), 'application/zip')).status).toBe(413);
    expect(readdirSync(dir)).toEqual([]);
  });
});
