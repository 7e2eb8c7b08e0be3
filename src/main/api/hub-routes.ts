/**
 * `GET /api/v2/hub`: what the dashboard and scripts need to know about the hub itself (version,
 * device URL, counters). Not part of mDash; ours (PROTOCOL.md 7 "plus ours").
 */
import type { FastifyInstance } from 'fastify';
import type { StorageHealth } from '../store/group-commit';
import type { DataStats } from '../data/data-stats';

export interface HubStatus {
  version: string;
  uptime_s: number;
  device_url: string;
  devices: number;
  online: number;
  frames: { framesIn: number; framesOut: number; dropped: Record<string, number> };
  notifications: { published: number; subscribers: number };
  /** Device data counters: rows stored, id-less writes dropped by reason, drains (data-stats.ts). */
  data?: ReturnType<DataStats['snapshot']>;
  /** Whether each database takes writes, and its last storage failure (issue 7 items 5, 13). */
  store: { registry: StorageHealth; account: StorageHealth };
}

export function registerHubRoutes(app: FastifyInstance, status: () => HubStatus): void {
  app.get('/api/v2/hub', async () => status());
}
