/**
 * `GET /api/v2/doctor` (master key; issue 12): the checks a site needs, run now against this hub
 * (lan/doctor-run.ts). Ours, not mDash's. `?ntp_server=host[:port]` compares the hub's clock
 * with that NTP server; without it the clock is only checked for sanity.
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { DoctorReport } from '../../shared/lan';
import { runDoctor, type DoctorHubView } from '../lan/doctor-run';
import { parseWith } from '../validate';
import { stripToken } from './devices-routes';

export const DoctorQuery = Type.Object(
  {
    // A host name or address, optionally with :port; no scheme, no path.
    ntp_server: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.:\\[\\]-]{1,253}$' })),
  },
  { additionalProperties: false },
);

export function registerDoctorRoutes(app: FastifyInstance, view: () => DoctorHubView): void {
  app.get('/api/v2/doctor', async (req): Promise<DoctorReport> => {
    const q = parseWith(DoctorQuery, stripToken(req.query) ?? {});
    return runDoctor(view(), { ntpServer: q.ntp_server ?? null });
  });
}
