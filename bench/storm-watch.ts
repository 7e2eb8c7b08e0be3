/**
 * Watches a connection storm from the outside through the REST API, which (unlike a notification
 * subscriber) cannot be dropped for falling behind: `GET /api/v2/hub` every 100 ms for the number
 * of live sessions and of frames received from devices (each simulated device sends exactly one
 * frame here, its Sys.GetInfo reply: PROTOCOL.md 1 step 2), then `GET /api/v2/devices` (only
 * `reported.ota.id` of each, `?fields=`) until every device has `shadow.state.reported.ota`
 * (step 3 committed).
 */
import Type from 'typebox';
import { isValid } from '../src/main/validate';
import type { HubClient } from './http-json';
import { hubStatus } from './hub-status';

const DeviceWithShadow = Type.Object({
  id: Type.String(),
  shadow: Type.Object({
    state: Type.Object({ reported: Type.Record(Type.String(), Type.Unknown()) }),
  }),
});
const OtaValue = Type.Record(Type.String(), Type.Unknown());
/** A device listed with `?fields=` of this path has `reported.ota` once step 3 committed. */
const OTA_FIELD = 'shadow.state.reported.ota.id';

export interface StormTimes {
  /** performance.now() when the hub first had all N sessions open. */
  allOnlineAt: number;
  /** When the hub had received N device frames (every Sys.GetInfo reply). */
  allRepliedAt: number;
  /** When a device list showed `reported.ota` on every device (an upper bound for step 3). */
  verifiedAt: number;
}

const POLL_MS = 100;
const VERIFY_EVERY_MS = 500;

export async function watchStorm(
  client: HubClient,
  ids: readonly string[],
  timeoutMs: number,
  onProgress: (online: number, replied: number) => void,
): Promise<StormTimes> {
  const n = ids.length;
  const wanted = new Set(ids);
  const framesBefore = (await hubStatus(client)).frames.framesIn;
  const deadline = performance.now() + timeoutMs;
  let allOnlineAt: number | null = null;
  let allRepliedAt: number | null = null;
  let lastVerify = 0;
  let lastLog = performance.now();
  for (;;) {
    const s = await hubStatus(client);
    const now = performance.now();
    const replied = s.frames.framesIn - framesBefore;
    if (allOnlineAt === null && s.online >= n) allOnlineAt = now;
    if (allRepliedAt === null && replied >= n) allRepliedAt = now;
    if (now - lastLog >= 5000) {
      lastLog = now;
      onProgress(s.online, replied);
    }
    if (allOnlineAt !== null && allRepliedAt !== null && now - lastVerify >= VERIFY_EVERY_MS) {
      lastVerify = now;
      if ((await devicesWithOta(client, wanted)) >= n) {
        return { allOnlineAt, allRepliedAt, verifiedAt: performance.now() };
      }
    }
    if (now > deadline) {
      throw new Error(
        `storm not done after ${timeoutMs} ms: ${s.online} sessions, ${replied} replies of ${n}`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function devicesWithOta(client: HubClient, wanted: ReadonlySet<string>): Promise<number> {
  // Only the path the check reads: the full list of 10,000 devices is megabytes of JSON every
  // 500 ms, hub CPU that the watched steps would otherwise have had.
  const list = await client.json('GET', `/api/v2/devices?fields=${OTA_FIELD}`);
  if (!Array.isArray(list)) throw new Error('GET /api/v2/devices: not an array');
  let count = 0;
  for (const d of list) {
    if (
      isValid(DeviceWithShadow, d) &&
      wanted.has(d.id) &&
      isValid(OtaValue, d.shadow.state.reported['ota'])
    ) {
      count++;
    }
  }
  return count;
}
