/**
 * Fastify's schema compilers (ajv, fast-json-stringify) load only when a route declares a Fastify
 * schema (issue 11, idle RSS: about 1.2 MB of heap a running hub never used). Our routes validate
 * with typebox; a route with a Fastify schema must still be validated as Fastify would.
 */
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from '../../../src/main/api/http-server';
import { startTestHub, type TestHub } from '../../support/hub-harness';

/** CommonJS files of these packages in this process's module cache. */
function loaded(pkgs: RegExp): string[] {
  return Object.keys(createRequire(import.meta.url).cache).filter((f) => pkgs.test(f));
}
// Fastify's error serializer always loads fast-json-stringify's small runtime (lib/serializer.js);
// the compiler is its index.js.
const COMPILERS =
  /\/node_modules\/(ajv\/|@fastify\/(ajv|fast-json-stringify)-compiler\/|fast-json-stringify\/index\.js)/;

describe('Fastify schema compilers', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a running hub that served requests has not loaded ajv or fast-json-stringify', async () => {
    // The check can see Fastify itself (it is in the same cache).
    expect(loaded(/\/node_modules\/fastify\//).length).toBeGreaterThan(0);
    const r = await t.api('GET', '/api/v2/devices');
    expect(r.status).toBe(200);
    expect(loaded(COMPILERS)).toEqual([]);
  });

  it('a route that declares a schema is still validated and serialized by the defaults', async () => {
    const app = Fastify({ schemaController: { compilersFactory: lazySchemaCompilers() } });
    app.post(
      '/x',
      {
        schema: {
          body: {
            type: 'object',
            required: ['n'],
            properties: { n: { type: 'integer' } },
          },
          response: {
            200: { type: 'object', properties: { n: { type: 'integer' } } },
          },
        },
      },
      async (req) => ({ n: (req.body as { n: number }).n, dropped: true }),
    );
    try {
      const bad = await app.inject({ method: 'POST', url: '/x', payload: { n: 'many' } });
      expect(bad.statusCode).toBe(400);
      const good = await app.inject({ method: 'POST', url: '/x', payload: { n: 3 } });
      expect(good.statusCode).toBe(200);
      // fast-json-stringify drops what the response schema does not name.
      expect(good.json()).toEqual({ n: 3 });
      expect(loaded(COMPILERS).length).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});
