/**
 * `GET /api/v2/lan` and `PUT /api/v2/lan` (master key; ours, PROTOCOL.md 9 style): the LAN
 * services' status, and new settings saved in `<dataDir>/settings.json` and applied at once (the
 * responders restart on the new ports). A port that cannot be bound is not an error of the PUT:
 * the answer's status says `listening: false` with the problem and its fix.
 */
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../shared/errors';
import { LanSettingsPatchSchema } from '../../shared/lan-schemas';
import type { LanServices } from '../lan/lan-services';
import { parseWith } from '../validate';

export function registerLanRoutes(
  app: FastifyInstance,
  lan: Pick<LanServices, 'status' | 'apply'>,
): void {
  app.get('/api/v2/lan', async () => lan.status());

  app.put('/api/v2/lan', async (req) => {
    const patch = parseWith(LanSettingsPatchSchema, req.body ?? {});
    const upstreamPort = /:(\d+)$/.exec(patch.upstream ?? '')?.[1];
    if (upstreamPort !== undefined && Number(upstreamPort) > 65535) {
      throw new HubError('validation_failed', '/upstream: the port must be 1-65535');
    }
    return lan.apply(patch);
  });
}
