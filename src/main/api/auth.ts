/**
 * Route authentication. Who may call each route is listed in one table (route-access.ts); the
 * hook enforces it: `master` routes need a master API key (PROTOCOL.md 4) before the handler
 * runs. A route may also declare its mode in `config.auth`; the table wins, and a route the
 * table does not list falls back to its declaration, else `master` (closed by default). The route
 * list is recorded, with both modes, so a test can prove the table covers every route and agrees
 * with every declaration.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../../shared/errors';
import type { KeysRepo } from '../store/keys-repo';
import { extractBearer } from '../gateway/upgrade-auth';
import { listedAccess } from './route-access';
import { syncHook } from './sync-hook';

/**
 * Who may call a route: `master` (a master API key), `customer` (a customer key or HTTP Basic
 * email:password, PROTOCOL.md 4), `device` (a device ACL `public_key`), `none` (public). For
 * `customer` and `device` the route's own handler resolves the caller (which customer, which
 * device); the hook only lets them through.
 */
export type AuthMode = 'master' | 'customer' | 'device' | 'none';

export interface RouteRecord {
  method: string;
  url: string;
  /** The mode the hook enforces. */
  auth: AuthMode;
  /** What the route itself declares: `config.auth`, else `master` under /api/ and `none` outside. */
  declared: AuthMode;
  /** Whether route-access.ts lists the route. */
  listed: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
}

export function requestKey(req: FastifyRequest): string | null {
  return extractBearer(req.raw.rawHeaders, req.url);
}

/** Verifies a master key; throws `unauthorized` when missing or unknown. */
export function verifyMasterKey(keys: KeysRepo, secret: string | null): void {
  if (secret === null) throw new HubError('unauthorized', 'missing API key');
  if (!keys.verify(secret, Math.floor(Date.now() / 1000))) {
    throw new HubError('unauthorized', 'invalid API key');
  }
}

/** The mode the hook enforces for a route: the table's, else its own, else `master`. */
export function effectiveAuth(
  method: string,
  url: string,
  declared: AuthMode | undefined,
): AuthMode {
  return listedAccess(method, url) ?? declared ?? 'master';
}

export function installAuth(app: FastifyInstance, keys: KeysRepo, routes: RouteRecord[]): void {
  app.addHook('onRoute', (opts) => {
    const methods = Array.isArray(opts.method) ? opts.method : [opts.method];
    const own = opts.config?.auth;
    const declared: AuthMode = own ?? (opts.url.startsWith('/api/') ? 'master' : 'none');
    for (const m of methods) {
      if (m === 'HEAD' || m === 'OPTIONS') continue;
      const listed = listedAccess(m, opts.url) !== undefined;
      routes.push({
        method: m,
        url: opts.url,
        auth: effectiveAuth(m, opts.url, own),
        declared,
        listed,
      });
    }
  });
  app.addHook(
    'onRequest',
    syncHook((req) => checkMasterKey(keys, req)),
  );
}

function checkMasterKey(keys: KeysRepo, req: FastifyRequest): void {
  // No route matched (the 404 handler): nothing to protect, and the 404 says nothing.
  const url = req.routeOptions.url;
  if (req.method === 'OPTIONS' || url === undefined) return;
  // A HEAD answered by a GET route (static files) is checked as that GET.
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (effectiveAuth(method, url, req.routeOptions.config?.auth) !== 'master') return;
  verifyMasterKey(keys, requestKey(req));
}
