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

/**
 * Waits until `n` devices are online and the hub has gone `quietMs` without a frame from them
 * (their session steps are answered). The readiness check for runs where a notification watcher
 * is dropped as too slow during a storm (1013): the hub's own counters, polled.
 */
export async function waitOnlineAndQuiet(
  client: HubClient,
  n: number,
  timeoutMs: number,
  quietMs = 1500,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  let since = performance.now();
  for (;;) {
    const s = await hubStatus(client);
    const now = performance.now();
    if (s.frames.framesIn !== last) {
      last = s.frames.framesIn;
      since = now;
    }
    if (s.online >= n && now - since >= quietMs) return;
    if (now > deadline) throw new Error(`hub: ${s.online} of ${n} online after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
