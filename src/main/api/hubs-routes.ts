/**
 * `GET /api/v2/hubs` (issue 12 "Discovery"; ours, not mDash): the Fleetbench hubs advertised on
 * the LAN by mDNS / DNS-SD, this one included (`self`), and this hub's own advertiser status.
 * The hub asks the LAN again and waits `?wait_ms=` (default config `discovery.browseWaitMs`) for
 * answers; only hubs that answered in that window are listed, so a hub that went away without a
 * goodbye drops out. `?wait_ms=0` answers at once with every hub seen so far.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { HubsList, MdnsStatus, SeenHub } from '../../shared/lan';
import { HubError } from '../../shared/errors';
import { parseWith } from '../validate';
import { stripToken } from './devices-routes';

const HubsQuery = Type.Object(
  { wait_ms: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })) },
  { additionalProperties: false },
);

export interface HubsRouteDeps {
  id: string;
  mdns: () => MdnsStatus;
  /** Null when this hub has no mDNS socket (advertising off, or it could not bind). */
  browser: () => { query(): void; list(sinceMs?: number): SeenHub[] } | null;
  waitMs: number;
  maxWaitMs: number;
}

export function registerHubsRoutes(app: FastifyInstance, deps: HubsRouteDeps): void {
  app.get('/api/v2/hubs', async (req): Promise<HubsList> => {
    const q = parseWith(HubsQuery, stripToken(req.query) ?? {});
    const wait = q.wait_ms === undefined ? deps.waitMs : Number(q.wait_ms);
    if (wait > deps.maxWaitMs) {
      throw new HubError('validation_failed', `wait_ms: at most ${deps.maxWaitMs}`);
    }
    const browser = deps.browser();
    let hubs: SeenHub[] = [];
    if (browser) {
      const since = Date.now();
      if (wait > 0) {
        browser.query();
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      hubs = browser.list(wait > 0 ? since : 0);
    }
    return { id: deps.id, mdns: deps.mdns(), hubs };
  });
}
