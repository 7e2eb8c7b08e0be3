/**
 * Reading an mDash-compatible source through its public REST API only (PROTOCOL.md 4): device
 * objects (`token` is the device password), customers, and the account database through
 * `POST /sql/exec`. Every answer is `unknown` until a schema accepts it; a wrong shape is the
 * coded error `import_source_incompatible`, an unreachable server `import_source_unreachable`,
 * a refused key `import_source_unauthorized` (PROTOCOL.md 4: 401 no/bad key, 403 not allowed).
 *
 * Devices are read a page at a time where the source pages (`?limit=&after=`, README "Device
 * list"; a Fleetbench hub does): a source that ignores `limit`, as mDash's list has no paging,
 * sends its whole array in the first answer, and the reader stops there.
 */
import Type, { type Static } from 'typebox';
import { HubError } from '../../shared/errors';
import { firstProblem } from '../validate';
import { NetworkError, RestError, restCall, type Endpoint, type RestAnswer } from './rest-client';
import type { PlanCustomer, PlanDevice } from './import-plan';

const Obj = Type.Record(Type.String(), Type.Unknown());

export const SourceDeviceSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  name: Type.Optional(Type.String()),
  token: Type.String({ minLength: 1 }),
  acl: Type.Optional(Type.Union([Obj, Type.Null()])),
  shadow: Type.Optional(
    Type.Union([
      Type.Object({
        state: Type.Optional(
          Type.Union([
            Type.Object({
              desired: Type.Optional(Type.Union([Obj, Type.Null()])),
              reported: Type.Optional(Type.Union([Obj, Type.Null()])),
            }),
            Type.Null(),
          ]),
        ),
        tags: Type.Optional(Type.Union([Obj, Type.Null()])),
      }),
      Type.Null(),
    ]),
  ),
});
/**
 * Answers come from JSON.parse, so the `unknown` leaves the schema leaves open are JSON values:
 * these types say so (the same narrowing as customer-routes.ts `asJson`).
 */
export type SourceDevice = PlanDevice;

export const SourceCustomerSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  email: Type.String(),
  app_id: Type.Optional(Type.String()),
  token: Type.Optional(Type.String()),
  pubkeys: Type.Optional(Type.Record(Type.String(), Obj)),
  cconfig: Type.Optional(Type.Unknown()),
});
export type SourceCustomer = PlanCustomer;

const Cell = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
export const SqlResultSchema = Type.Object({
  columns: Type.Array(Type.String()),
  rows: Type.Array(Type.Array(Cell)),
  truncated: Type.Optional(Type.Boolean()),
  changes: Type.Optional(Type.Number()),
});
export type SqlAnswer = Static<typeof SqlResultSchema>;

/** `what` names the answer in the message: "GET /api/v2/devices: [3].token: ...". */
export function checkShape<S extends Parameters<typeof firstProblem>[0]>(
  schema: S,
  value: unknown,
  what: string,
): Static<S> {
  const problem = firstProblem(schema, value);
  if (problem !== null) {
    throw new HubError(
      'import_source_incompatible',
      `${what}: ${problem} (is this an mDash-compatible server?)`,
    );
  }
  return value as Static<S>;
}

export class SourceReader {
  constructor(
    readonly ep: Endpoint,
    private readonly timeoutMs: number,
  ) {}

  /** A call whose transport and auth failures are the import's coded errors. */
  private async call(method: string, path: string, body?: unknown): Promise<RestAnswer> {
    try {
      return await restCall(this.ep, method, path, body, this.timeoutMs);
    } catch (err) {
      if (err instanceof NetworkError) {
        throw new HubError(
          'import_source_unreachable',
          `cannot reach the source ${this.ep.label}: ${err.message}`,
        );
      }
      // A 403 with a code of its own (a statement the SQL guard refuses, 4038) is about that call,
      // not the key.
      const keyRefused =
        err instanceof RestError &&
        (err.status === 401 || (err.status === 403 && (err.code === null || err.code === 403)));
      if (keyRefused) {
        throw new HubError(
          'import_source_unauthorized',
          `the source ${this.ep.label} refused the key (HTTP ${err.status}); give a master API key of the source with --key`,
        );
      }
      throw err;
    }
  }

  private json(answer: RestAnswer, what: string): unknown {
    if (answer.json === undefined) {
      throw new HubError(
        'import_source_incompatible',
        `${what}: the answer is not JSON (is ${this.ep.label} an mDash-compatible server?)`,
      );
    }
    return answer.json;
  }

  /** Device pages: each an array of checked device objects, in the source's order. */
  async *devicePages(pageSize: number): AsyncGenerator<SourceDevice[]> {
    let after: string | null = null;
    for (;;) {
      const q = new URLSearchParams({ limit: String(pageSize) });
      if (after !== null) q.set('after', after);
      const path = `/api/v2/devices?${q.toString()}`;
      let answer: RestAnswer;
      try {
        answer = await this.call('GET', path);
      } catch (err) {
        // A source that refuses the paging parameters (400) gets the plain mDash call.
        if (after === null && err instanceof RestError && err.status === 400) {
          answer = await this.call('GET', '/api/v2/devices');
        } else {
          throw this.incompatibleOn404(err, 'GET /api/v2/devices');
        }
      }
      const page = checkShape(
        Type.Array(SourceDeviceSchema),
        this.json(answer, 'GET /api/v2/devices'),
        'GET /api/v2/devices',
      ) as unknown as SourceDevice[];
      yield page;
      const next = answer.headers.get('x-next-after');
      // No next-page header: this was the last page, or the source sent everything at once.
      if (next === null || next === '' || page.length === 0 || next === after) return;
      after = next;
    }
  }

  /** The local-side lookups do not need this; for the source, a missing route is a wrong server. */
  private incompatibleOn404(err: unknown, what: string): unknown {
    if (err instanceof RestError && (err.status === 404 || err.status === 405)) {
      return new HubError(
        'import_source_incompatible',
        `${what}: HTTP ${err.status} (is ${this.ep.label} an mDash-compatible server?)`,
      );
    }
    return err;
  }

  /** All customers (the API has no paging; a hub caps them at `customers.maxCustomers`). */
  async customers(): Promise<SourceCustomer[]> {
    const answer = await this.call('GET', '/api/v2/customers');
    return checkShape(
      Type.Array(SourceCustomerSchema),
      this.json(answer, 'GET /api/v2/customers'),
      'GET /api/v2/customers',
    ) as unknown as SourceCustomer[];
  }

  /** One statement on the source's account database (reads only, from the import). */
  async sql(query: string, params: ReadonlyArray<string | number | null> = []): Promise<SqlAnswer> {
    const answer = await this.call('POST', '/api/v2/sql/exec', {
      query,
      ...(params.length > 0 && { params }),
    });
    return checkShape(
      SqlResultSchema,
      this.json(answer, 'POST /api/v2/sql/exec'),
      'POST /api/v2/sql/exec',
    );
  }
}
