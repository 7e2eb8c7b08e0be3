/**
 * `/api/v2/devices` (PROTOCOL.md 4): CRUD, the device shadow, and the RPC bridge.
 */
import type { FastifyInstance } from 'fastify';
import type { Json } from '../../shared/types';
import { HubError } from '../../shared/errors';
import { parseWith } from '../validate';
import type { DeviceService } from '../devices/device-service';
import type { DeviceGateway } from '../gateway/device-gateway';
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
}

export function registerDevicesRoutes(app: FastifyInstance, deps: DevicesRouteDeps): void {
  const { devices, gateway } = deps;

  app.get('/api/v2/devices', async () => devices.list());

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
    return devices.updateShadow(id, req.body);
  });

  // The RPC bridge: the device's `result` is the raw body (PROTOCOL.md 4).
  const rpc = async (params: unknown, query: unknown, body: unknown): Promise<{ text: string }> => {
    const { id, method } = parseWith(RpcParams, params);
    const q = parseWith(RpcQuery, query ?? {});
    devices.get(id);
    const timeoutMs = q.timeout === undefined ? deps.rpcTimeoutMs : Math.max(1, Number(q.timeout));
    if (!gateway.isOnline(id)) throw new HubError('device_offline', `device '${id}' is offline`);
    const result = await gateway.call(id, method, body as Json | undefined, timeoutMs);
    return { text: JSON.stringify(result ?? null) };
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

/** `access_token` is authentication, not an RPC option. */
function stripToken(query: unknown): unknown {
  if (typeof query !== 'object' || query === null) return query;
  const { access_token: _ignored, ...rest } = query as Record<string, unknown>;
  return rest;
}
