/**
 * Applies `ota.*` and `rollout.*` notifications (PROTOCOL.md 7, 9) to what a page shows. Pure, so
 * the reducers are unit-tested. The data of a state notification may be the whole object, the
 * object under `job` / `rollout`, or a small `{job, state, error?}` patch: all are accepted, and
 * anything else is reported as `unknown` so the caller re-reads from REST.
 */
import type { Notification } from '../../shared/types';
import {
  readOtaJob,
  readOtaProgress,
  readRollout,
  type OtaJobView,
  type RolloutDeviceView,
  type RolloutView,
} from '../api/schemas';
import { FINAL_JOB_STATES } from './ota-format';

type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The job a notification carries whole, if it does. */
export function jobOf(n: Notification): OtaJobView | null {
  const d: unknown = n.data;
  return readOtaJob(d) ?? (isObj(d) ? readOtaJob(d.job) : null);
}

/**
 * New versions of `jobs` after a batch (same array when nothing changed). `unknown`: a
 * notification named a job not in the list, or had a shape we could not read.
 */
export function applyOtaNotifications(
  jobs: readonly OtaJobView[],
  batch: readonly Notification[],
  accept: (job: OtaJobView) => boolean = () => true,
): { jobs: OtaJobView[]; unknown: boolean; changed: boolean } {
  const list = [...jobs];
  let unknown = false;
  let changed = false;
  const index = (id: string): number => list.findIndex((j) => j.id === id);
  for (const n of batch) {
    if (n.name === 'ota.state') {
      const whole = jobOf(n);
      if (whole) {
        if (!accept(whole)) continue;
        const i = index(whole.id);
        if (i >= 0) list[i] = whole;
        else list.unshift(whole);
        changed = true;
        continue;
      }
      const d: unknown = n.data;
      if (isObj(d) && typeof d.job === 'string' && typeof d.state === 'string') {
        const i = index(d.job);
        const cur = list[i];
        if (!cur) {
          unknown = true;
          continue;
        }
        const error =
          isObj(d.error) && typeof d.error.code === 'string' && typeof d.error.message === 'string'
            ? { code: d.error.code, message: d.error.message }
            : cur.error;
        list[i] = {
          ...cur,
          state: d.state as OtaJobView['state'],
          ...(error ? { error } : {}),
          ...(typeof d.uncommitted === 'boolean' ? { uncommitted: d.uncommitted } : {}),
        };
        changed = true;
      } else unknown = true;
    } else if (n.name === 'ota.progress') {
      const p = readOtaProgress(n.data);
      if (!p) continue;
      const i = index(p.job);
      const cur = list[i];
      if (!cur) {
        unknown = true;
        continue;
      }
      // A late progress frame must not turn an ended job back into "sending".
      if (
        FINAL_JOB_STATES.includes(cur.state) ||
        cur.state === 'rebooting' ||
        cur.state === 'verifying'
      )
        continue;
      list[i] = { ...cur, state: 'sending', bytes: p.bytes, total: p.total };
      changed = true;
    }
  }
  return { jobs: changed ? list : [...jobs], unknown, changed };
}

/** The rollout a notification carries whole, if it does. */
export function rolloutOf(n: Notification): RolloutView | null {
  const d: unknown = n.data;
  return readRollout(d) ?? (isObj(d) ? readRollout(d.rollout) : null);
}

/** The rollout id a `rollout.*` notification is about (its `id`, or `data.rollout` / `data.id`). */
export function rolloutIdOf(n: Notification): string | null {
  const whole = rolloutOf(n);
  if (whole) return whole.id;
  const d: unknown = n.data;
  if (isObj(d) && typeof d.rollout === 'string') return d.rollout;
  if (n.name === 'rollout.state' && isObj(d) && typeof d.id === 'string') return d.id;
  return n.id !== '' ? n.id : null;
}

/** A `rollout.device` patch: `{rollout, device|id, state, error?}`. */
export function rolloutDevicePatch(
  n: Notification,
): (Partial<RolloutDeviceView> & { id: string }) | null {
  const d: unknown = n.data;
  if (!isObj(d) || typeof d.state !== 'string') return null;
  const id = typeof d.device === 'string' ? d.device : typeof d.id === 'string' ? d.id : null;
  if (id === null) return null;
  const patch: Partial<RolloutDeviceView> & { id: string } = {
    id,
    state: d.state as RolloutDeviceView['state'],
  };
  if (isObj(d.error) && typeof d.error.code === 'string' && typeof d.error.message === 'string')
    patch.error = { code: d.error.code, message: d.error.message };
  if (typeof d.wave === 'number') patch.wave = d.wave;
  if (typeof d.job === 'string') patch.job = d.job;
  return patch;
}

/** Applies a device patch to a rollout's device list (counts follow from the next REST read). */
export function patchRolloutDevice(
  rollout: RolloutView,
  patch: Partial<RolloutDeviceView> & { id: string },
): RolloutView {
  if (!rollout.devices) return rollout;
  const i = rollout.devices.findIndex((d) => d.id === patch.id);
  const devices = [...rollout.devices];
  const cur = devices[i];
  if (cur) {
    const next: RolloutDeviceView = { ...cur, ...patch };
    if (
      patch.state !== undefined &&
      !patch.error &&
      !['failed', 'rolled_back'].includes(patch.state)
    )
      delete next.error;
    devices[i] = next;
  } else if (patch.state !== undefined) devices.push({ ...patch, state: patch.state });
  return { ...rollout, devices };
}
