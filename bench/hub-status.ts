/**
 * `GET /api/v2/hub` (src/main/api/hub-routes.ts), read through a schema: online count and frame
 * counters let a benchmark confirm from the hub's own side what it measured from outside.
 */
import Type from 'typebox';
import { parseWith } from '../src/main/validate';
import type { HubClient } from './http-json';

export const HubStatus = Type.Object({
  devices: Type.Integer(),
  online: Type.Integer(),
  frames: Type.Object({
    framesIn: Type.Integer(),
    framesOut: Type.Integer(),
    dropped: Type.Record(Type.String(), Type.Integer()),
  }),
  notifications: Type.Object({ published: Type.Integer(), subscribers: Type.Integer() }),
});
export type HubStatus = Type.Static<typeof HubStatus>;

export async function hubStatus(client: HubClient): Promise<HubStatus> {
  return parseWith(HubStatus, await client.json('GET', '/api/v2/hub'));
}

export function droppedFrames(s: HubStatus): number {
  return Object.values(s.frames.dropped).reduce((a, b) => a + b, 0);
}
