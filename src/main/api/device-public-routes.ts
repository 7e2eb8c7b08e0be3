/**
 * The device public API (PROTOCOL.md 4, 8): what a holder of a device ACL's `public_key` (an end
 * customer's app) may do with that one device, by `?access_token=` or `Authorization: Bearer`.
 * Each route is `auth: 'device'`: the handler resolves the caller through the in-memory key index
 * (devices/public-key-index.ts), never a registry scan; an unknown or empty key is a 401.
 *
 * Reads return `{"id","shadow"}` with the shadow filtered leaf by leaf by `shadow_read`; writes are
 * all or nothing against `shadow_write` and then take the management write path (delta,
 * `Shadow.Delta`, `updated`); RPC goes through the management bridge when the `rpc` globs allow
 * the method; data through the ACL's `data_read` queries only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { HubError } from '../../shared/errors';
import { readableShadow, rpcAllowed, unwritableLeaves } from '../../shared/acl/device-acl';
import type { DeviceObject } from '../../shared/types';
import type { KeyedDevice, PublicKeyIndex } from '../devices/public-key-index';
import type { SqlExecutor, SqlParam } from '../data/sql-executor';
import { parseWith } from '../validate';
import { requestKey } from './auth';
import {
  callDeviceRpc,
  refuseReservedKeys,
  stripToken,
  type DevicesRouteDeps,
} from './devices-routes';
import { runDataRead } from './device-data-routes';
import { parseParams, SqlParamsSchema } from './sql-routes';

export interface DevicePublicRouteDeps extends DevicesRouteDeps {
  keys: PublicKeyIndex;
  sql: SqlExecutor;
}

const WriteBody = Type.Object({ shadow: Type.Record(Type.String(), Type.Unknown()) });
const MethodParams = Type.Object({
  method: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.$-]+$' }),
});
const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });
const DataBody = Type.Object({ params: Type.Optional(SqlParamsSchema) });
const DataQuery = Type.Object({ params: Type.Optional(Type.String()) });

/** How many refused paths a 403 names (a big write could list thousands). */
const MAX_PATHS_NAMED = 10;

export function registerDevicePublicRoutes(
  app: FastifyInstance,
  deps: DevicePublicRouteDeps,
): void {
  const device = { config: { auth: 'device' as const } };

  const caller = (req: FastifyRequest): KeyedDevice => {
    const key = requestKey(req);
    if (key === null) throw new HubError('unauthorized', 'missing device public key');
    const entry = deps.keys.resolve(key);
    if (!entry) throw new HubError('unauthorized', 'unknown device public key');
    return entry;
  };

  const view = (entry: KeyedDevice, obj: DeviceObject): { id: string; shadow: unknown } => ({
    id: obj.id,
    shadow: readableShadow(entry.compiled, obj.shadow),
  });

  app.get('/api/v2/m/device', device, async (req) => {
    const entry = caller(req);
    return view(entry, deps.devices.get(entry.id));
  });

  app.post('/api/v2/m/device', device, async (req) => {
    const entry = caller(req);
    const body = parseWith(WriteBody, req.body ?? {});
    const denied = unwritableLeaves(entry.compiled, body.shadow);
    if (denied.length > 0) {
      const named = denied.slice(0, MAX_PATHS_NAMED).join(', ');
      const more =
        denied.length > MAX_PATHS_NAMED ? ` and ${denied.length - MAX_PATHS_NAMED} more` : '';
      throw new HubError(
        'forbidden',
        `the device ACL shadow_write does not allow ${named}${more}`,
        {
          paths: denied,
        },
      );
    }
    refuseReservedKeys(body.shadow);
    return view(entry, await deps.devices.update(entry.id, { shadow: body.shadow }));
  });

  const rpc = async (req: FastifyRequest, body: unknown): Promise<string> => {
    const entry = caller(req);
    const { method } = parseWith(MethodParams, req.params);
    if (!rpcAllowed(entry.compiled, method)) {
      throw new HubError('forbidden', `the device ACL rpc does not allow ${method}`);
    }
    return (await callDeviceRpc(deps, entry.id, method, stripToken(req.query), body)).text;
  };
  app.get('/api/v2/m/device/rpc/:method', device, async (req, reply) =>
    reply.type('application/json').send(await rpc(req, undefined)),
  );
  app.post('/api/v2/m/device/rpc/:method', device, async (req, reply) =>
    reply.type('application/json').send(await rpc(req, req.body)),
  );

  const data = (req: FastifyRequest, params: readonly SqlParam[]) => {
    const entry = caller(req);
    const { name } = parseWith(NameParams, req.params);
    // No customer behind a bare device key: CUSTOMER_ID is ''.
    return runDataRead(deps.sql, entry.acl, name, { deviceId: entry.id, customerId: '' }, params);
  };
  app.get('/api/v2/m/device/data/:name', device, async (req) => {
    const q = parseWith(DataQuery, stripToken(req.query) ?? {});
    return data(req, parseParams(q.params));
  });
  app.post('/api/v2/m/device/data/:name', device, async (req) => {
    const body = parseWith(DataBody, req.body ?? {});
    return data(req, body.params ?? []);
  });
}
