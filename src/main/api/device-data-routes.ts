/**
 * `GET/POST /api/v2/devices/:id/data/:name` (master key; PROTOCOL.md 5, 8): runs the device ACL's
 * `data_read[name]` with `DEVICE_ID` / `CUSTOMER_ID` replaced (data/acl-query.ts) and the caller's
 * `?` parameters bound, through the SQL executor: `{"columns","rows"}`. POST takes
 * `{"params":[..]}`, GET `?params=<JSON array>`. The customer form under
 * `/api/v2/m/device/data/:name` shares `runDataRead`.
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { HubError } from '../../shared/errors';
import type { DeviceAcl } from '../../shared/types';
import { resolveAclQuery } from '../../shared/acl-query';
import type { SqlExecutor, SqlParam } from '../data/sql-executor';
import type { SqlResult } from '../data/sql-protocol';
import type { DeviceService } from '../devices/device-service';
import { parseWith } from '../validate';
import { parseParams, SqlParamsSchema } from './sql-routes';

const DataParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
});
const DataBody = Type.Object({ params: Type.Optional(SqlParamsSchema) });
const DataQuery = Type.Object({ params: Type.Optional(Type.String()) });

/** Runs `data_read[name]` of `acl` for the device (and customer); `data_query_not_found` if none. */
export function runDataRead(
  sql: SqlExecutor,
  acl: DeviceAcl,
  name: string,
  ids: { deviceId: string; customerId?: string },
  params: readonly SqlParam[],
): Promise<SqlResult> {
  const text = resolveAclQuery(acl, 'data_read', name, ids);
  if (text === null) {
    throw new HubError('data_query_not_found', `the device ACL has no data_read query '${name}'`);
  }
  return sql.exec(text, params);
}

export function registerDeviceDataRoutes(
  app: FastifyInstance,
  deps: { devices: DeviceService; sql: SqlExecutor },
): void {
  const run = (rawParams: unknown, params: readonly SqlParam[]): Promise<SqlResult> => {
    const { id, name } = parseWith(DataParams, rawParams);
    const device = deps.devices.get(id);
    return runDataRead(deps.sql, device.acl, name, { deviceId: device.id }, params);
  };
  app.get('/api/v2/devices/:id/data/:name', async (req) => {
    const q = parseWith(DataQuery, req.query ?? {});
    return run(req.params, parseParams(q.params));
  });
  app.post('/api/v2/devices/:id/data/:name', async (req) => {
    const body = parseWith(DataBody, req.body ?? {});
    return run(req.params, body.params ?? []);
  });
}
