/**
 * `GET /api/v2/lan` and `PUT /api/v2/lan` (master key; ours, PROTOCOL.md 9 style): the LAN
 * services' status, and new settings saved in `<dataDir>/settings.json` and applied at once (the
 * responders restart on the new ports). A port that cannot be bound is not an error of the PUT:
 * the answer's status says `listening: false` with the problem and its fix.
 */
import type { FastifyInstance } from 'fastify';
import { LanSettingsPatchSchema } from '../../shared/lan-schemas';
import type { LanServices } from '../lan/lan-services';
import { parseWith } from '../validate';

export function registerLanRoutes(
  app: FastifyInstance,
  lan: Pick<LanServices, 'status' | 'apply'>,
): void {
  app.get('/api/v2/lan', async () => lan.status());

  app.put('/api/v2/lan', async (req) => {
    // The schema checks everything, the upstream's port range included (shared with
    // settings.json and `serve --dns-upstream`).
    return lan.apply(parseWith(LanSettingsPatchSchema, req.body ?? {}));
  });
}
