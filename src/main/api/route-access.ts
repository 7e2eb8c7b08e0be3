/**
 * Who may call each route: the one table (issue 10 "Auth, made explicit"; PROTOCOL.md 4).
 *
 * - `none`: public. Only the dashboard's files, customer web apps and customer sign-up.
 * - `master`: a master API key (`Authorization: Bearer` or `?access_token=`), checked by the
 *   auth hook (auth.ts) before the handler runs.
 * - `customer`: a customer key (`access_token`, Bearer) or HTTP Basic `email:password`; the
 *   handler resolves which customer (customer-routes.ts).
 * - `device`: a device ACL `public_key` (`access_token`, Bearer); the handler resolves which
 *   device and applies its ACL (PROTOCOL.md 8).
 *
 * The hook enforces the mode listed here. A route missing from the table falls back to its own
 * `config.auth`, or `master` when it declares none, so a forgotten route is closed, never public
 * by accident; test/integration/api/route-access.test.ts walks every registered route of a real
 * hub and fails on any route missing here or declaring another mode.
 */
import type { AuthMode } from './auth';

export interface RouteAccess {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The Fastify route pattern, exactly as registered. */
  url: string;
  auth: AuthMode;
}

const r = (method: RouteAccess['method'], url: string, auth: AuthMode): RouteAccess => ({
  method,
  url,
  auth,
});

export const ROUTE_ACCESS: readonly RouteAccess[] = [
  // Dashboard (DESIGN.md "One API surface"): the page and its static files.
  r('GET', '/', 'none'),
  r('GET', '/*', 'none'),
  // Customer web apps (PROTOCOL.md 4): served to anyone; they authenticate their own API calls.
  r('GET', '/a/:app_id', 'none'),
  r('GET', '/a/:app_id/*', 'none'),
  // Customer API (PROTOCOL.md 4): sign-up without a key; rate limited per address.
  r('GET', '/newcustomer', 'none'),
  r('POST', '/invite', 'none'),
  r('GET', '/customer', 'customer'),
  r('POST', '/customer', 'customer'),
  // Device public API (PROTOCOL.md 4, 8).
  r('GET', '/api/v2/m/device', 'device'),
  r('POST', '/api/v2/m/device', 'device'),
  r('GET', '/api/v2/m/device/rpc/:method', 'device'),
  r('POST', '/api/v2/m/device/rpc/:method', 'device'),
  r('GET', '/api/v2/m/device/data/:name', 'device'),
  r('POST', '/api/v2/m/device/data/:name', 'device'),
  // Management (PROTOCOL.md 4, 9), master key.
  r('GET', '/api/v2/devices', 'master'),
  r('POST', '/api/v2/devices', 'master'),
  r('GET', '/api/v2/devices/:id', 'master'),
  r('POST', '/api/v2/devices/:id', 'master'),
  r('PUT', '/api/v2/devices/:id', 'master'),
  r('DELETE', '/api/v2/devices/:id', 'master'),
  r('GET', '/api/v2/devices/:id/shadow', 'master'),
  r('POST', '/api/v2/devices/:id/shadow', 'master'),
  r('GET', '/api/v2/devices/:id/rpc/:method', 'master'),
  r('POST', '/api/v2/devices/:id/rpc/:method', 'master'),
  r('GET', '/api/v2/devices/:id/data/:name', 'master'),
  r('POST', '/api/v2/devices/:id/data/:name', 'master'),
  r('GET', '/api/v2/keys', 'master'),
  r('POST', '/api/v2/keys', 'master'),
  r('GET', '/api/v2/keys/:id', 'master'),
  r('DELETE', '/api/v2/keys/:id', 'master'),
  r('POST', '/api/v2/logs', 'master'),
  r('POST', '/api/v2/sql/exec', 'master'),
  r('GET', '/api/v2/sql/db', 'master'),
  // Backup and restore (issue 12): the archive holds every secret of the hub.
  r('POST', '/api/v2/backup', 'master'),
  r('POST', '/api/v2/restore', 'master'),
  r('GET', '/api/v2/customers', 'master'),
  r('POST', '/api/v2/customers', 'master'),
  r('GET', '/api/v2/customers/:id', 'master'),
  r('POST', '/api/v2/customers/:id', 'master'),
  r('DELETE', '/api/v2/customers/:id', 'master'),
  r('POST', '/api/v2/m', 'master'),
  r('GET', '/api/v2/m', 'master'),
  r('DELETE', '/api/v2/m/:app_id', 'master'),
  r('GET', '/api/v2/hub', 'master'),
  // Hubs seen on the LAN by mDNS (issue 12 "Discovery").
  r('GET', '/api/v2/hubs', 'master'),
  // LAN services (issue 12): SNTP and DNS status and settings.
  r('GET', '/api/v2/lan', 'master'),
  r('PUT', '/api/v2/lan', 'master'),
  r('GET', '/api/v2/doctor', 'master'),
  r('POST', '/api/v2/firmware', 'master'),
  r('GET', '/api/v2/firmware', 'master'),
  r('GET', '/api/v2/firmware/:id', 'master'),
  r('GET', '/api/v2/firmware/:id/file', 'master'),
  r('POST', '/api/v2/firmware/:id/elf', 'master'),
  r('DELETE', '/api/v2/firmware/:id', 'master'),
  r('POST', '/api/v2/devices/:id/ota', 'master'),
  r('POST', '/api/v2/devices/:id/ota/commit', 'master'),
  r('POST', '/api/v2/devices/:id/ota/revert', 'master'),
  r('GET', '/api/v2/ota', 'master'),
  r('GET', '/api/v2/ota/:job', 'master'),
  r('DELETE', '/api/v2/ota/:job', 'master'),
  r('POST', '/api/v2/rollouts', 'master'),
  r('POST', '/api/v2/rollouts/preview', 'master'),
  r('GET', '/api/v2/rollouts', 'master'),
  r('GET', '/api/v2/rollouts/:id', 'master'),
  r('POST', '/api/v2/rollouts/:id/pause', 'master'),
  r('POST', '/api/v2/rollouts/:id/resume', 'master'),
  r('POST', '/api/v2/rollouts/:id/retry', 'master'),
  r('POST', '/api/v2/rollouts/:id/abort', 'master'),
  r('POST', '/api/v2/rollouts/:id/rollback', 'master'),
  // Flasher on the hub machine (DESIGN.md "One API surface"), master key.
  r('GET', '/api/v2/local/ports', 'master'),
  r('POST', '/api/v2/local/flash', 'master'),
  r('GET', '/api/v2/local/jobs', 'master'),
  r('GET', '/api/v2/local/jobs/:id', 'master'),
  r('GET', '/api/v2/local/jobs/:id/log', 'master'),
  r('DELETE', '/api/v2/local/jobs/:id', 'master'),
  r('POST', '/api/v2/local/bench', 'master'),
  r('GET', '/api/v2/local/bench', 'master'),
  r('POST', '/api/v2/local/bench/retry', 'master'),
  r('DELETE', '/api/v2/local/bench', 'master'),
  r('GET', '/api/v2/local/bench.csv', 'master'),
  r('POST', '/api/v2/local/monitor/symbols', 'master'),
];

/**
 * WebSocket endpoints (upgrades, not Fastify routes; hub.ts routes them by path). Each checks its
 * own secret before upgrading and answers 401 without one.
 */
export const UPGRADE_ACCESS: readonly { path: string; auth: AuthMode | 'device-password' }[] = [
  { path: '/api/v2/rpc', auth: 'device-password' },
  { path: '/api/v2/notify', auth: 'master' },
  { path: '/api/v2/local/monitor', auth: 'master' },
  { path: '/api/v2/m/device/notify', auth: 'device' },
];

const byKey = new Map(ROUTE_ACCESS.map((a) => [`${a.method} ${a.url}`, a.auth]));

/** The listed mode of a route, or undefined when the table does not list it. */
export function listedAccess(method: string, url: string): AuthMode | undefined {
  return byKey.get(`${method} ${url}`);
}
