/**
 * Route authentication. Every route declares who may call it in its `config.auth`; management
 * routes (the default under /api/v2) need a master API key (PROTOCOL.md 4). The route list is
 * recorded so a test can prove that no management route skips the check.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../../shared/errors';
import type { KeysRepo } from '../store/keys-repo';
import { extractBearer } from '../gateway/upgrade-auth';

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
  auth: AuthMode;
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

export function installAuth(app: FastifyInstance, keys: KeysRepo, routes: RouteRecord[]): void {
  app.addHook('onRoute', (opts) => {
    const methods = Array.isArray(opts.method) ? opts.method : [opts.method];
    const auth: AuthMode = opts.config?.auth ?? (opts.url.startsWith('/api/') ? 'master' : 'none');
    for (const m of methods) {
      if (m === 'HEAD' || m === 'OPTIONS') continue;
      routes.push({ method: m, url: opts.url, auth });
    }
  });
  app.addHook('onRequest', async (req) => {
    const cfg = req.routeOptions.config;
    const url = req.routeOptions.url ?? '';
    const auth: AuthMode = cfg?.auth ?? (url.startsWith('/api/') ? 'master' : 'none');
    if (req.method === 'OPTIONS' || auth !== 'master') return;
    verifyMasterKey(keys, requestKey(req));
  });
}
