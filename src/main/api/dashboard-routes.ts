/**
 * Serves the built dashboard at `/` (DESIGN.md "One API surface": the same page runs in Electron
 * and in any browser on the LAN). Without a build, `/` explains how to make one.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

const PLACEHOLDER = `<!doctype html><html><head><meta charset="utf-8"><title>Fleetbench hub</title></head>
<body style="font-family:system-ui;margin:3rem;max-width:40rem">
<h1>Fleetbench hub is running</h1>
<p>The dashboard has not been built. Run <code>npm run build</code> and restart, or use the REST API
at <code>/api/v2</code> (see README).</p></body></html>`;

export async function registerDashboard(
  app: FastifyInstance,
  rendererDir: string | null,
): Promise<void> {
  if (rendererDir && existsSync(join(rendererDir, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: resolve(rendererDir),
      prefix: '/',
      index: 'index.html',
    });
    return;
  }
  app.get('/', async (_req, reply) => reply.type('text/html').send(PLACEHOLDER));
}
