/**
 * `POST /api/v2/logs` (PROTOCOL.md 7): stored notifications, newest last. `start` skips that many
 * of the newest matches, so `{"start":0,"limit":100}` is the latest hundred; `name` may end in
 * `*` to select a family (`rpc.out.*`).
 */
import type { FastifyInstance } from 'fastify';
import { parseWith } from '../validate';
import type { LogRepo } from '../store/log-repo';
import { LogsBody } from './schemas';

export const DEFAULT_LOG_LIMIT = 100;

export function registerLogsRoutes(app: FastifyInstance, log: LogRepo): void {
  app.post('/api/v2/logs', async (req) => {
    const body = parseWith(LogsBody, req.body ?? {});
    return log.query({
      start: body.start ?? 0,
      limit: body.limit ?? DEFAULT_LOG_LIMIT,
      ...(body.device !== undefined && { device: body.device }),
      ...(body.name !== undefined && { name: body.name }),
    });
  });
}
