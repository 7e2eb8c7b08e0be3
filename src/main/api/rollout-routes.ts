/**
 * Staged rollouts over REST (PROTOCOL.md 9, master key):
 * - POST `/rollouts` `{"firmware","devices"?,"labels"?,"waves","max_failures","health_s",
 *   "concurrency","skip_current","offline","wave_success"?}` -> 201 rollout;
 * - POST `/rollouts/preview` (ours), same body -> what each wave would take now;
 * - GET `/rollouts`, GET `/rollouts/:id` (with `devices`);
 * - POST `/rollouts/:id/pause|resume|retry` -> the rollout; `/abort` -> the rollout, and with
 *   `{"rollback":true}` also `rollback` (the rollout sending the previous firmware back);
 * - POST `/rollouts/:id/rollback` (ours) -> 201 that rollback rollout, with `unavailable`.
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { HubError } from '../../shared/errors';
import type { Rollout, RolloutPreview } from '../../shared/ota';
import type { RolloutManager, RolloutRequest } from '../ota/rollout-manager';
import { parseWith } from '../validate';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
/** `5` or `"10%"` (PROTOCOL.md 9); the range is checked by the planner (amountProblem). */
const Amount = Type.Union([
  Type.Integer({ minimum: 1 }),
  Type.String({ pattern: '^[0-9]{1,3}(\\.[0-9]{1,3})?%$' }),
]);

export const RolloutBody = Type.Object(
  {
    firmware: Id,
    devices: Type.Optional(Type.Array(Id, { maxItems: 100_000 })),
    labels: Type.Optional(Type.String({ maxLength: 1024 })),
    waves: Type.Optional(Type.Array(Amount, { minItems: 1, maxItems: 1000 })),
    max_failures: Type.Optional(Amount),
    health_s: Type.Optional(Type.Integer({ minimum: 0 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
    skip_current: Type.Optional(Type.Boolean()),
    offline: Type.Optional(Type.Union([Type.Literal('wait'), Type.Literal('skip')])),
    wave_success: Type.Optional(Amount),
  },
  { additionalProperties: false },
);

const AbortBody = Type.Object(
  { rollback: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Id });

/** The aborted rollout; with `{"rollback":true}` also the rollback rollout, or why there is none. */
type AbortReply = Rollout & {
  rollback?: Rollout;
  rollback_error?: { code: string; message: string };
};

export function registerRolloutRoutes(app: FastifyInstance, rollouts: RolloutManager): void {
  const body = (raw: unknown): RolloutRequest => parseWith(RolloutBody, raw) as RolloutRequest;

  app.post('/api/v2/rollouts', async (req, reply): Promise<Rollout> => {
    const created = rollouts.create(body(req.body));
    void reply.code(201);
    return created;
  });
  app.post('/api/v2/rollouts/preview', async (req): Promise<RolloutPreview> =>
    rollouts.preview(body(req.body)),
  );
  app.get('/api/v2/rollouts', async (): Promise<Rollout[]> => rollouts.list());
  app.get('/api/v2/rollouts/:id', async (req): Promise<Rollout> => {
    return rollouts.get(parseWith(Params, req.params).id);
  });
  app.post('/api/v2/rollouts/:id/pause', async (req): Promise<Rollout> => {
    return rollouts.pause(parseWith(Params, req.params).id);
  });
  app.post('/api/v2/rollouts/:id/resume', async (req): Promise<Rollout> => {
    return rollouts.resume(parseWith(Params, req.params).id);
  });
  app.post('/api/v2/rollouts/:id/retry', async (req): Promise<Rollout> => {
    return rollouts.retry(parseWith(Params, req.params).id);
  });
  app.post('/api/v2/rollouts/:id/abort', async (req): Promise<AbortReply> => {
    const { id } = parseWith(Params, req.params);
    const { rollback } = parseWith(AbortBody, req.body ?? {});
    const aborted: AbortReply = rollouts.abort(id);
    if (rollback !== true) return aborted;
    try {
      return { ...aborted, rollback: rollouts.rollback(id) };
    } catch (err) {
      // Aborted either way; say why nothing was sent back.
      if (!(err instanceof HubError)) throw err;
      return { ...aborted, rollback_error: { code: err.kind, message: err.message } };
    }
  });
  app.post('/api/v2/rollouts/:id/rollback', async (req, reply): Promise<Rollout> => {
    const created = rollouts.rollback(parseWith(Params, req.params).id);
    void reply.code(201);
    return created;
  });
}
