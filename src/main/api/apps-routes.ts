/**
 * Customer web apps (issue 10, PROTOCOL.md 4 "Customer web apps").
 *
 * Management (master key): `POST /api/v2/m` takes an app zip, as a multipart `file` part or as the
 * raw body (any other content type: `curl --data-binary @app.zip` sends it form-encoded), and
 * answers `{"app_id"}` plus the listing fields; `GET /api/v2/m` lists the apps;
 * `DELETE /api/v2/m/:app_id` removes one (the built-in app: 409).
 *
 * Public (no key: customers open these from an invite link): `/a/<app_id>/...` serves the app's
 * files over http and https (the TLS listener routes into this same app), `/a/<app_id>` redirects
 * to the trailing slash so relative URLs in the page resolve inside the app. Files are streamed
 * from disk; the path is taken from the raw URL and refused when it could leave the app's folder.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import Type from 'typebox';
import { APP_ID_PATTERN, type AppObject } from '../../shared/apps';
import { HubError } from '../../shared/errors';
import type { AppLimits } from '../config';
import { appCacheControl, appContentType, appFileSegments } from '../customers/app-files';
import type { AppStore } from '../customers/app-store';
import { parseWith } from '../validate';
import { receiveUpload } from './streamed-upload';

const APP_ID = new RegExp(APP_ID_PATTERN);

const AppIdParams = Type.Object({
  app_id: Type.String({ pattern: APP_ID_PATTERN }),
});

/** The app id and the rest of the path (raw, undecoded) of a `/a/...` request URL. */
function splitAppUrl(url: string): { appId: string; rest: string | null; query: string } {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  const after = path.slice('/a/'.length);
  const slash = after.indexOf('/');
  const rawId = slash < 0 ? after : after.slice(0, slash);
  let appId: string;
  try {
    appId = decodeURIComponent(rawId);
  } catch {
    appId = '';
  }
  return { appId, rest: slash < 0 ? null : after.slice(slash + 1), query };
}

/** Common headers of everything served under `/a/`. */
function appHeaders(reply: FastifyReply): void {
  void reply
    .header('x-content-type-options', 'nosniff')
    // An invite link carries the customer token in its query string: never pass it on as Referer.
    .header('referrer-policy', 'no-referrer');
}

async function serveAppFile(req: FastifyRequest, reply: FastifyReply, store: AppStore) {
  const { appId, rest, query } = splitAppUrl(req.raw.url ?? req.url);
  appHeaders(reply);
  if (!APP_ID.test(appId) || !(await store.exists(appId))) {
    throw new HubError('app_not_found', `no app '${appId.slice(0, 64)}'`);
  }
  if (rest === null) {
    // `/a/<id>` -> `/a/<id>/`: the page's relative URLs must resolve inside the app.
    return reply.redirect(`/a/${encodeURIComponent(appId)}/${query}`, 301);
  }
  const segments = appFileSegments(rest);
  if (segments === null) throw new HubError('not_found', 'no such file');
  const file = await store.resolveFile(appId, segments);
  const info = await stat(file.path).catch(() => null);
  if (info?.isDirectory()) {
    const path = (req.raw.url ?? req.url).split('?')[0] ?? '';
    return reply.redirect(`${path}/${query}`, 301);
  }
  if (!info?.isFile()) throw new HubError('not_found', `no file '${segments.join('/')}'`);
  const name = segments[segments.length - 1] ?? '';
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  void reply
    .header('cache-control', appCacheControl(name, file.builtin))
    .header('etag', etag)
    .header('last-modified', info.mtime.toUTCString());
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  void reply.type(appContentType(name)).header('content-length', info.size);
  return reply.send(createReadStream(file.path));
}

export async function registerAppsRoutes(
  app: FastifyInstance,
  deps: { store: AppStore; limits: AppLimits },
): Promise<void> {
  const { store, limits } = deps;
  // Awaited so the routes exist (and are recorded for the auth test) before the hub lists them.
  await app.register(async (scope) => {
    // Any body that is not multipart is the zip itself, streamed (never parsed as text).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    await scope.register(multipart, {
      limits: { fileSize: limits.maxZipBytes + 1, files: 4, fields: 16, parts: 24 },
    });
    scope.post(
      '/api/v2/m',
      { config: { auth: 'master', upload: true } },
      async (req): Promise<AppObject> => {
        const staged = await receiveUpload(
          req,
          { stage: (file) => store.stage(file), discard: (zip) => store.discard(zip) },
          { what: 'the app zip', raw: true },
        );
        return store.install(staged);
      },
    );
  });

  app.get('/api/v2/m', { config: { auth: 'master' } }, async (): Promise<AppObject[]> =>
    store.list(),
  );

  app.delete('/api/v2/m/:app_id', { config: { auth: 'master' } }, async (req) => {
    const { app_id } = parseWith(AppIdParams, req.params);
    await store.remove(app_id);
    return true;
  });

  app.get('/a/:app_id', { config: { auth: 'none' } }, (req, reply) =>
    serveAppFile(req, reply, store),
  );
  app.get('/a/:app_id/*', { config: { auth: 'none' } }, (req, reply) =>
    serveAppFile(req, reply, store),
  );
}
