/**
 * REST RPC by GET without Fastify's request lifecycle (issue 11). Routing, four hooks, CORS, the
 * request and reply objects and their promises held the hub 13-15% below the calls/s it reaches
 * without them at 10,000 devices, where the call itself is a frame out and a frame back
 * (bench/RESULTS.md, "The REST RPC GET in front of Fastify"). This
 * listener runs before Fastify's and answers the plainest and commonest form of
 * `GET /api/v2/devices/:id/rpc/:method` itself; every other request goes to Fastify untouched.
 *
 * It takes a request only when Fastify would do exactly what it does:
 * - GET, the path with no query string and no percent-encoding, id and method already in their
 *   schema's alphabet and lengths (schemas.ts RpcParams);
 * - a valid master key, read as auth.ts reads it (anything else: Fastify's 401);
 * - no `Origin` header (a browser's request gets @fastify/cors's headers from Fastify), no body;
 * - a registered device (else Fastify's 404);
 * - request logging off: at `info` Fastify logs every request, so at `info` and below every request
 *   goes to Fastify and is logged as before.
 * Its answers are Fastify's, header for header (test/integration/api/rpc-fast-path.test.ts sends
 * the same calls both ways and compares them).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { KeysRepo } from '../store/keys-repo';
import type { Json } from '../../shared/types';
import { routeError } from './error-handler';
import { startDeviceRpc, type DevicesRouteDeps } from './devices-routes';
import { requestSecret } from '../gateway/upgrade-auth';
import type { TurnWrites } from '../gateway/turn-writes';

/** The RPC route's own deps (the call is its `startDeviceRpc`), and the keys to check. */
export interface RpcFastPathDeps extends DevicesRouteDeps {
  keys: KeysRepo;
  /** Answers leave after the event-loop turn, with the turn's other writes (turn-writes.ts). */
  turnWrites: TurnWrites;
}

/** The path exactly; the id and method alphabets are a subset of RpcParams' (no `%`, no `?`). */
const RPC_PATH = /^\/api\/v2\/devices\/([A-Za-z0-9_.-]{1,64})\/rpc\/([A-Za-z0-9_.$-]{1,128})$/;

/** Log levels at which Fastify does not log requests (it logs them at `info`). */
const QUIET_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface RpcFastPath {
  /** Calls this path answered (tests and diagnostics). */
  answered: number;
}

/**
 * Puts the fast path in front of Fastify's request listener on `app.server`; null (and nothing
 * installed) at a log level where Fastify logs requests.
 */
export function installRpcFastPath(
  app: FastifyInstance,
  deps: RpcFastPathDeps,
): RpcFastPath | null {
  if (!QUIET_LEVELS.has(app.log.level)) return null;
  const stats: RpcFastPath = { answered: 0 };
  const server: Server = app.server;
  const fastify = server.listeners('request') as Listener[];
  server.removeAllListeners('request');
  const toFastify: Listener = (req, res) => {
    for (const l of fastify) l.call(server, req, res);
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const m = req.method === 'GET' ? RPC_PATH.exec(req.url ?? '') : null;
    const id = m?.[1];
    const method = m?.[2];
    if (id === undefined || method === undefined || !takes(req, id, deps)) {
      toFastify(req, res);
      return;
    }
    stats.answered++;
    // The route's own call (no query, no params), so both ways stay one behaviour. Its checks
    // throw before anything is sent; the device's answer settles the promise.
    let result: Promise<Json>;
    try {
      result = startDeviceRpc(deps, id, method, undefined, undefined);
    } catch (err) {
      fail(res, err, app.log);
      return;
    }
    result.then(
      (r) => {
        const body = JSON.stringify(r ?? null);
        deps.turnWrites.defer(() => answer(res, 200, body));
      },
      (err: unknown) => fail(res, err, app.log),
    );
  });
  return stats;
}

/** Whether the request is plain (see the top); a failing check (a storage error) leaves it to Fastify. */
function takes(req: IncomingMessage, id: string, deps: RpcFastPathDeps): boolean {
  try {
    return plain(req, id, deps);
  } catch {
    return false;
  }
}

function plain(req: IncomingMessage, id: string, deps: RpcFastPathDeps): boolean {
  const h = req.headers;
  // A browser's request (CORS) and a GET with a body (Fastify's to judge) are not plain.
  if (h.origin !== undefined || h['content-length'] !== undefined) return false;
  if (h['transfer-encoding'] !== undefined) return false;
  // The same secret auth.ts reads for Fastify (every Authorization header, else ?access_token).
  const key = requestSecret(req);
  if (key === null || !deps.keys.verify(key, Math.floor(Date.now() / 1000))) return false;
  return deps.devices.exists(id);
}

/** The error reply Fastify's error handler gives for the same failure. */
function fail(res: ServerResponse, err: unknown, log: FastifyBaseLogger): void {
  const e = routeError(err, log);
  answer(res, e.status, JSON.stringify(e.toBody()));
}

/** What Fastify sends for these replies: its headers, in its order, with @fastify/cors's Vary. */
function answer(res: ServerResponse, status: number, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, {
    vary: 'Origin',
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
