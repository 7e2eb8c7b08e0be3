/**
 * What happens after a device's upgrade, in the order PROTOCOL.md 1 lists. Each step is named so
 * a failure says where it happened; a failed step is logged and the session goes on (a device
 * that cannot answer Sys.GetInfo is still online and reachable).
 */
import { isJsonObject } from '../shadow/json-value';
import type { DeviceSession } from './device-session';
import type { DeviceService } from '../devices/device-service';

export interface StepDeps {
  devices: DeviceService;
  log: { warn(obj: object, msg: string): void };
  /** PROTOCOL.md 5 spool drain, supplied by the data feature when present. */
  drainSpool?: (session: DeviceSession) => Promise<void>;
}

type Step = { name: string; run: (s: DeviceSession, d: StepDeps) => Promise<void> };

export const SESSION_STEPS: readonly Step[] = [
  {
    name: 'mark online',
    run: (s, d) => d.devices.setOnline(s.deviceId, true),
  },
  {
    name: 'Sys.GetInfo',
    async run(s, d) {
      const info = await s.call('Sys.GetInfo', { utc_time: Math.floor(Date.now() / 1000) });
      if (!isJsonObject(info)) return;
      // A public key the ACL does not have yet is stored with `reported.ota`, in one statement.
      const key = info['public_key'];
      const acl = d.devices.get(s.deviceId).acl;
      const learned =
        typeof key === 'string' && key !== '' && !acl.public_key
          ? { ...acl, public_key: key }
          : undefined;
      await d.devices.replaceReported(s.deviceId, 'ota', info, learned);
    },
  },
  {
    name: 'Shadow.Delta',
    async run(s, d) {
      // Fire and forget: devices may not answer Shadow.Delta, and a timeout is not an error.
      d.devices.pushDelta(s.deviceId, d.devices.shadowOf(s.deviceId));
    },
  },
  {
    name: 'drain spool',
    async run(s, d) {
      await d.drainSpool?.(s);
    },
  },
];

export async function runSessionSteps(session: DeviceSession, deps: StepDeps): Promise<void> {
  for (const step of SESSION_STEPS) {
    if (session.closed) return;
    try {
      await step.run(session, deps);
    } catch (err) {
      if (session.closed) return;
      deps.log.warn(
        {
          device: session.deviceId,
          step: step.name,
          err: err instanceof Error ? err.message : String(err),
        },
        'session step failed',
      );
    }
  }
}
