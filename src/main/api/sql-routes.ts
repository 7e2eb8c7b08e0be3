/**
 * The SQL API (PROTOCOL.md 4; master key): `POST /api/v2/sql/exec` runs one statement on the
 * account database, `GET /api/v2/sql/db` downloads a consistent snapshot of it. Both go through
 * the one executor (data/sql-executor.ts): child processes, a deadline, capped results.
 *
 * `/sql/exec` takes what mDash clients send: a form (`query=...`, optional `params=` as a JSON
 * array) or JSON `{"query","params"?}`.
 */
import { createReadStream, rmSync, statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { HubError } from '../../shared/errors';
import type { SqlExecutor } from '../data/sql-executor';
import { parseWith } from '../validate';

export const SqlParamSchema = Type.Union([
  Type.String(),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
]);
export const SqlParamsSchema = Type.Array(SqlParamSchema, { maxItems: 999 });

const ExecBody = Type.Object({
  query: Type.String({ minLength: 1 }),
  params: Type.Optional(Type.Union([SqlParamsSchema, Type.String()])),
});

/** Params given as a JSON array, or as its text (a form field, a query string). */
export function parseParams(value: unknown): Array<string | number | boolean | null> {
  if (value === undefined) return [];
  let v: unknown = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v) as unknown;
    } catch {
      throw new HubError('validation_failed', 'params: not a JSON array');
    }
  }
  return parseWith(SqlParamsSchema, v);
}

export function registerSqlRoutes(app: FastifyInstance, sql: SqlExecutor): void {
  app.post('/api/v2/sql/exec', async (req) => {
    const body = parseWith(ExecBody, req.body ?? {});
    return sql.exec(body.query, parseParams(body.params));
  });

  app.get('/api/v2/sql/db', async (_req, reply) => {
    const path = await sql.snapshot();
    let size: number;
    try {
      size = statSync(path).size;
    } catch (err) {
      rmSync(path, { force: true });
      throw err;
    }
    // Streamed from disk, never held in memory; removed once sent, or when the client goes away.
    const stream = createReadStream(path);
    stream.on('close', () => rmSync(path, { force: true }));
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return reply
      .header('content-type', 'application/vnd.sqlite3')
      .header('content-length', String(size))
      .header('content-disposition', `attachment; filename="account-${stamp}.sqlite"`)
      .header('cache-control', 'no-store')
      .send(stream);
  });
}
