/**
 * `/api/v2/devices` (PROTOCOL.md 4): CRUD, the device shadow, and the RPC bridge.
 */
import type { FastifyInstance } from 'fastify';
import type { Json } from '../../shared/types';
import { HubError } from '../../shared/errors';
import { parseWith } from '../validate';
import { encodeCall } from '../rpc/frame-encode';
import { HUB_OWNED_REPORTED_KEYS, reservedKeyWritten } from '../shadow/reserved-keys';
import type { DeviceService } from '../devices/device-service';
import type { DeviceGateway } from '../gateway/device-gateway';
import { DeviceListQuery } from '../../shared/device-list';
import { deviceListPage } from './device-list-page';
import { checkAclOnSave } from './acl-validate';
import {
  CreateDeviceBody,
  DeviceIdParams,
  RenameDeviceBody,
  RpcParams,
  RpcQuery,
  UpdateDeviceBody,
} from './schemas';

export interface DevicesRouteDeps {
  devices: DeviceService;
  gateway: DeviceGateway;
  rpcTimeoutMs: number;
  /** Largest `?timeout=` (timings.maxRpcTimeoutMs). */
  maxRpcTimeoutMs: number;
  /** The frame we send must fit a device's message limit (PROTOCOL.md intro: 8 KB). */
  maxMessageBytes: number;
}

export function registerDevicesRoutes(app: FastifyInstance, deps: DevicesRouteDeps): void {
  const { devices } = deps;

  // A plain GET is the whole array (PROTOCOL.md 4, as mDash clients expect); `fields` and
  // `limit`/`after` are opt-in (README "Device list").
  app.get('/api/v2/devices', async (req, reply) => {
    const page = deviceListPage(devices, parseWith(DeviceListQuery, stripToken(req.query)));
    for (const [name, value] of Object.entries(page.headers)) reply.header(name, value);
    return page.body;
  });

  app.post('/api/v2/devices', async (req) => {
    const body = parseWith(CreateDeviceBody, req.body ?? {});
    return devices.create(body);
  });

  app.get('/api/v2/devices/:id', async (req) => {
    const { id } = parseWith(DeviceIdParams, req.params);
    return devices.get(id);
  });

  app.post('/api/v2/devices/:id', async (req) => {
    const { id } = parseWith(DeviceIdParams, req.params);
    const body = parseWith(UpdateDeviceBody, req.body ?? {});
    refuseReservedKeys(body.shadow);
    if (body.acl !== undefined) checkAclOnSave(body.acl);
    return devices.update(id, body);
  });

  app.put('/api/v2/devices/:id', async (req) => {
    const { id } = parseWith(DeviceIdParams, req.params);
    const body = parseWith(RenameDeviceBody, req.body);
    return devices.update(id, { name: body.name });
  });

  app.delete('/api/v2/devices/:id', async (req) => {
    const { id } = parseWith(DeviceIdParams, req.params);
    devices.remove(id);
    return true;
  });

  app.get('/api/v2/devices/:id/shadow', async (req) => {
    const { id } = parseWith(DeviceIdParams, req.params);
    return devices.shadowOf(id);
  });

  app.post('/api/v2/devices/:id/shadow', async (req) => {
    const { id } = parseWith(DeviceIdParams, req.params);
    devices.get(id); // 404 before validation errors of the body
    refuseReservedKeys(req.body);
    return devices.updateShadow(id, req.body);
  });

  const rpc = (params: unknown, query: unknown, body: unknown): Promise<{ text: string }> => {
    const { id, method } = parseWith(RpcParams, params);
    return callDeviceRpc(deps, id, method, query, body);
  };

  app.get('/api/v2/devices/:id/rpc/:method', async (req, reply) => {
    const { text } = await rpc(req.params, stripToken(req.query), undefined);
    return reply.type('application/json').send(text);
  });

  app.post('/api/v2/devices/:id/rpc/:method', async (req, reply) => {
    const { text } = await rpc(req.params, stripToken(req.query), req.body);
    return reply.type('application/json').send(text);
  });
}

/**
 * The RPC bridge: the device's `result` is the raw body (PROTOCOL.md 4). Shared by the management
 * route and the device public API (`/api/v2/m/device/rpc/:method`) once its ACL allowed the call.
 */
export async function callDeviceRpc(
  deps: DevicesRouteDeps,
  id: string,
  method: string,
  query: unknown,
  body: unknown,
): Promise<{ text: string }> {
  return { text: JSON.stringify((await startDeviceRpc(deps, id, method, query, body)) ?? null) };
}

/**
 * The call itself: every check that refuses it is thrown here, synchronously, before anything is
 * sent; the promise is the device's result. The REST fast path (rpc-fast-path.ts) chains its
 * answer on this promise directly: an async wrapper around it was one more promise and two more
 * microtask hops for every call (issue 11).
 */
export function startDeviceRpc(
  deps: DevicesRouteDeps,
  id: string,
  method: string,
  query: unknown,
  body: unknown,
): Promise<Json> {
  // No query at all is a valid RpcQuery (every field optional): no schema check to run.
  const q = query === undefined ? {} : parseWith(RpcQuery, query);
  deps.devices.assertExists(id);
  const timeoutMs = rpcTimeout(q.timeout, deps);
  checkCallFrameSize(id, method, body, deps.maxMessageBytes);
  // Past limits.maxPendingCallsPerDevice waiting calls the session itself refuses with 429
  // too_many_calls (issue 7 item 15), whoever the caller; offline is a 503.
  return deps.gateway.call(id, method, body as Json | undefined, timeoutMs);
}

/** `reported.online` and `reported.ota` are the hub's (PROTOCOL.md 3): no client writes them. */
export function refuseReservedKeys(update: unknown): void {
  const path = reservedKeyWritten(update, HUB_OWNED_REPORTED_KEYS);
  if (path !== null) {
    throw new HubError('reserved_key', `${path} is owned by the hub and cannot be written`);
  }
}

/** `?timeout=` in ms: the hub default when absent, at most `maxRpcTimeoutMs` (else a 400). */
function rpcTimeout(
  raw: string | undefined,
  deps: { rpcTimeoutMs: number; maxRpcTimeoutMs: number },
): number {
  if (raw === undefined) return Math.min(deps.rpcTimeoutMs, deps.maxRpcTimeoutMs);
  const ms = Number(raw);
  if (ms > deps.maxRpcTimeoutMs) {
    throw new HubError('validation_failed', `timeout: at most ${deps.maxRpcTimeoutMs} ms`);
  }
  return Math.max(1, ms);
}

/**
 * The call frame must fit the device's message limit (PROTOCOL.md intro: 8 KB), or the device
 * drops it and the caller waits out the timeout for nothing. Measured with the longest id a
 * session can give, so a frame that passes here also fits when sent.
 */
function checkCallFrameSize(id: string, method: string, params: unknown, maxBytes: number): void {
  // Without params the frame is at most its fixed JSON (under 64 bytes) plus the method and id,
  // 6 bytes a UTF-16 unit when escaped: no need to encode it a second time for every call.
  if (params === undefined && 64 + 6 * (method.length + id.length) <= maxBytes) return;
  const frame = encodeCall(
    Number.MAX_SAFE_INTEGER,
    method,
    params as Json | undefined,
    `$sys/${id}`,
  );
  const size = Buffer.byteLength(frame);
  if (size > maxBytes) {
    throw new HubError(
      'too_large',
      `the call frame would be ${size} bytes; a device accepts at most ${maxBytes}`,
    );
  }
}

/** `access_token` is authentication, not an RPC option. */
export function stripToken(query: unknown): unknown {
  if (typeof query !== 'object' || query === null) return query;
  const { access_token: _ignored, ...rest } = query as Record<string, unknown>;
  return rest;
}
