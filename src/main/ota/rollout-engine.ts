/**
 * The pure running half of staged rollouts (issue 8, PROTOCOL.md 9): how one device's state
 * follows its OTA job, its health window and the device's presence, and `decide()`, which
 * looks at a rollout and its devices and says what to do next (start waves and jobs, skip
 * devices, end health windows, pause at the failure threshold, complete). The rollout manager
 * applies the actions and feeds the events; nothing here touches a clock, a socket or a store.
 */
import type {
  OtaFamily,
  OtaJob,
  OtaJobError,
  RolloutCounts,
  RolloutDeviceState,
  RolloutState,
  RolloutWave,
} from '../../shared/ota';
import { resolveAmount, type RolloutSpec } from './rollout-plan';

/** One device of a rollout as stored (the wire's RolloutDevice plus what the engine keeps). */
export interface EngineDevice {
  id: string;
  wave: number;
  state: RolloutDeviceState;
  job?: string;
  error?: OtaJobError;
  /** Jobs started for it by this rollout (a re-verified interrupted update counts as one). */
  attempts: number;
  /** Per-device firmware instead of the rollout's (rollback rollouts: each its previous one). */
  firmware?: string;
  from_fw?: string;
  to_fw?: string;
  family?: OtaFamily;
  /** End of the health window, ms since the epoch; set while the window runs. */
  health_until?: number;
  /** Mongoose OS (or unknown): send `OTA.Commit` when the health window passes. */
  commit?: boolean;
  /** The hub stopped while the device was mid-update: read its fw_id when it is online again. */
  recheck?: boolean;
}

export interface EngineRollout {
  id: string;
  spec: RolloutSpec;
  state: RolloutState;
  /** How many waves have started (wave indexes below this may run jobs). */
  started: number;
  /** Wave count fixed when the rollout was planned. */
  waves: number;
  created: number;
  ended: number | null;
  /** Why the rollout paused itself or ended (shown with it). */
  reason?: string;
  /** A wave whose success threshold the user waived by resuming. */
  accepted_wave?: number;
  /** Failures already there when the user resumed: the threshold counts only new ones. */
  acknowledged_failures?: number;
}

export type RolloutAction =
  | { kind: 'pause'; reason: string }
  | { kind: 'complete' }
  | { kind: 'start_wave'; wave: number }
  | { kind: 'skip'; id: string; error: OtaJobError }
  | { kind: 'start'; id: string }
  | { kind: 'healthy'; id: string }
  | { kind: 'recheck'; id: string };

export interface DecideContext {
  /** ms since the epoch. */
  now: number;
  online(id: string): boolean;
  /** The device already reports the firmware it would be sent. */
  current(d: EngineDevice): boolean;
  /** An async step (commit, re-verify, job start) is in flight for the device. */
  busy(id: string): boolean;
}

const FAILED: readonly RolloutDeviceState[] = ['failed', 'rolled_back', 'cancelled'];
const JOB_STATES: readonly RolloutDeviceState[] = ['queued', 'sending', 'rebooting', 'verifying'];

export const isFailed = (s: RolloutDeviceState): boolean => FAILED.includes(s);
export const isFinal = (s: RolloutDeviceState): boolean =>
  s === 'done' || s === 'skipped' || isFailed(s);
export const isUpdating = (s: RolloutDeviceState): boolean => JOB_STATES.includes(s);

/** Holds a concurrency slot: its job runs (health windows and re-verifications do not). */
const holdsSlot = (d: EngineDevice): boolean =>
  isUpdating(d.state) && d.health_until === undefined && d.recheck !== true;

export function countDevices(devices: Iterable<EngineDevice>): RolloutCounts {
  const c: RolloutCounts = { pending: 0, updating: 0, done: 0, failed: 0, skipped: 0 };
  for (const d of devices) {
    if (d.state === 'pending') c.pending++;
    else if (d.state === 'done') c.done++;
    else if (d.state === 'skipped') c.skipped++;
    else if (isFailed(d.state)) c.failed++;
    else c.updating++;
  }
  return c;
}

/** Devices per wave (skipped ones not counted) and each wave's state. */
export function waveView(r: EngineRollout, devices: Iterable<EngineDevice>): RolloutWave[] {
  const waves: RolloutWave[] = Array.from({ length: r.waves }, () => ({
    size: 0,
    state: 'pending',
  }));
  const open = new Array<boolean>(r.waves).fill(false);
  for (const d of devices) {
    const w = waves[d.wave];
    if (!w || d.state === 'skipped') continue;
    w.size++;
    if (!isFinal(d.state)) open[d.wave] = true;
  }
  waves.forEach((w, i) => {
    if (i < r.started) w.state = open[i] ? 'running' : 'done';
  });
  return waves;
}

/** The failure threshold as a device count (at least 1). */
export function failureLimit(spec: RolloutSpec, devices: Iterable<EngineDevice>): number {
  let total = 0;
  for (const d of devices) if (d.state !== 'skipped') total++;
  return resolveAmount(spec.max_failures, total);
}

/**
 * What to do next. Returns nothing unless the rollout runs. A paused rollout only finishes what
 * runs (health windows, re-verification); a rollout at its failure threshold starts nothing more.
 */
export function decide(
  r: EngineRollout,
  devices: readonly EngineDevice[],
  ctx: DecideContext,
): RolloutAction[] {
  if (r.state !== 'running' && r.state !== 'paused') return [];
  // Paused: no new jobs, but devices already updating finish (health windows, re-verification).
  const actions: RolloutAction[] = [];
  for (const d of devices) {
    if (ctx.busy(d.id)) continue;
    if (d.state === 'verifying' && d.health_until !== undefined && d.health_until <= ctx.now) {
      actions.push({ kind: 'healthy', id: d.id });
    } else if (d.recheck === true && ctx.online(d.id)) {
      actions.push({ kind: 'recheck', id: d.id });
    }
  }
  if (r.state !== 'running') return actions;
  // Failures the user already saw and resumed past do not count again.
  const failures = devices.filter((d) => isFailed(d.state)).length - (r.acknowledged_failures ?? 0);
  const limit = failureLimit(r.spec, devices);
  if (failures >= limit) {
    return [
      ...actions,
      { kind: 'pause', reason: `${failures} devices failed (max_failures ${limit})` },
    ];
  }
  const skipped = new Set<string>();

  const byWave: EngineDevice[][] = Array.from({ length: r.waves }, () => []);
  for (const d of devices) byWave[Math.min(d.wave, r.waves - 1)]?.push(d);
  const pendingSkip = (d: EngineDevice): OtaJobError | null => {
    if (d.state !== 'pending' || ctx.busy(d.id)) return null;
    if (r.spec.skip_current && ctx.current(d)) {
      return { code: 'conflict', message: 'already runs this firmware' };
    }
    if (r.spec.offline === 'skip' && !ctx.online(d.id)) {
      return { code: 'device_offline', message: 'offline when its wave ran (offline: skip)' };
    }
    return null;
  };
  const skipIn = (wave: number): void => {
    for (const d of byWave[wave] ?? []) {
      const error = pendingSkip(d);
      if (error && !skipped.has(d.id)) {
        skipped.add(d.id);
        actions.push({ kind: 'skip', id: d.id, error });
      }
    }
  };

  let started = r.started;
  for (let w = 0; w < started; w++) skipIn(w);
  while (started < r.waves) {
    if (started > 0) {
      const verdict = waveVerdict(r, started - 1, byWave[started - 1] ?? [], skipped, ctx);
      if (verdict === 'waiting') break;
      if (verdict !== 'reached') return [...actions, { kind: 'pause', reason: verdict }];
    }
    actions.push({ kind: 'start_wave', wave: started });
    skipIn(started);
    started++;
  }

  let slots = r.spec.concurrency - devices.filter(holdsSlot).length;
  for (let w = 0; w < started && slots > 0; w++) {
    for (const d of byWave[w] ?? []) {
      if (slots <= 0) break;
      if (d.state !== 'pending' || skipped.has(d.id) || ctx.busy(d.id) || !ctx.online(d.id)) {
        continue;
      }
      actions.push({ kind: 'start', id: d.id });
      slots--;
    }
  }

  const starting = actions.some((a) => a.kind === 'start' || a.kind === 'healthy');
  const unfinished = devices.some(
    (d) => !skipped.has(d.id) && (d.state === 'pending' || isUpdating(d.state)),
  );
  if (started === r.waves && !starting && !unfinished) actions.push({ kind: 'complete' });
  return actions;
}

/**
 * Whether the wave before the next one reached its success threshold: `reached`, `waiting`, or
 * (a configured `wave_success` that can no longer be met) the reason to pause.
 */
function waveVerdict(
  r: EngineRollout,
  wave: number,
  devices: readonly EngineDevice[],
  skipped: ReadonlySet<string>,
  ctx: DecideContext,
): string {
  if (r.accepted_wave !== undefined && r.accepted_wave >= wave) return 'reached';
  // Default threshold: every online device of the wave is done or failed; offline ones that
  // wait (offline: "wait") do not hold the next wave back.
  const outstanding = devices.some(
    (d) =>
      !skipped.has(d.id) &&
      (isUpdating(d.state) || (d.state === 'pending' && (ctx.online(d.id) || ctx.busy(d.id)))),
  );
  if (r.spec.wave_success === undefined) return outstanding ? 'waiting' : 'reached';
  const counted = devices.filter((d) => d.state !== 'skipped' && !skipped.has(d.id));
  const need = Math.min(counted.length, resolveAmount(r.spec.wave_success, counted.length));
  const done = counted.filter((d) => d.state === 'done').length;
  if (done >= need) return 'reached';
  if (outstanding) return 'waiting';
  return `wave ${wave + 1} reached ${done} of the ${need} done devices it needs (wave_success)`;
}

/**
 * A job of this device changed: the device mirrors it. `done` opens the health window (the
 * device counts as done only after it, PROTOCOL.md 9 / issue 8). Returns null when the job is
 * not the device's current one.
 */
export function applyJob(
  d: EngineDevice,
  job: OtaJob,
  now: number,
  healthS: number,
): EngineDevice | null {
  if (d.job !== job.id || isFinal(d.state)) return null;
  const base: EngineDevice = { ...d, from_fw: job.from_fw, family: job.family };
  delete base.error;
  delete base.recheck;
  if (job.state === 'done') {
    return {
      ...base,
      state: 'verifying',
      to_fw: job.to_fw,
      health_until: now + healthS * 1000,
      // Arduino images commit themselves (PROTOCOL.md 6); Mongoose OS waits for OTA.Commit.
      commit: job.uncommitted === true || job.family !== 'arduino',
    };
  }
  if (job.state === 'failed' || job.state === 'rolled_back' || job.state === 'cancelled') {
    const error = job.error ?? { code: job.state, message: `the update ended ${job.state}` };
    return { ...base, state: job.state, error };
  }
  if (base.state === job.state) return null;
  return { ...base, state: job.state };
}

/** The device went offline: inside its health window that fails it. */
export function applyOffline(d: EngineDevice): EngineDevice | null {
  if (d.state !== 'verifying' || d.health_until === undefined || d.recheck === true) return null;
  return fail(d, 'health_check_failed', 'went offline during the health window');
}

/** The device reported a fw_id: inside its health window another one than the new fails it. */
export function applyFwId(d: EngineDevice, fwId: string): EngineDevice | null {
  if (d.state !== 'verifying' || d.health_until === undefined || d.recheck === true) return null;
  if (d.to_fw === undefined || d.to_fw === '' || fwId === d.to_fw) return null;
  return fail(
    d,
    'health_check_failed',
    `reported fw_id ${fwId} instead of ${d.to_fw} during the health window`,
  );
}

/**
 * An interrupted update re-verified (the hub restarted mid-update): on the new firmware it goes
 * into a fresh health window; on the old one it goes back to pending for another attempt, or
 * fails once it used up `maxAttempts`.
 */
export function applyRecheck(
  d: EngineDevice,
  fwId: string,
  onNew: boolean,
  now: number,
  healthS: number,
  maxAttempts: number,
): EngineDevice {
  const next: EngineDevice = { ...d };
  delete next.recheck;
  delete next.job;
  if (onNew) {
    return {
      ...next,
      state: 'verifying',
      to_fw: fwId,
      health_until: now + healthS * 1000,
      commit: d.family !== 'arduino',
    };
  }
  delete next.health_until;
  if (d.attempts >= maxAttempts) {
    return fail(next, 'ota_interrupted', `still on fw_id ${fwId} after ${d.attempts} attempts`);
  }
  return { ...next, state: 'pending' };
}

/** Marks a device that was mid-update when the hub stopped, for re-verification. */
export function markInterrupted(d: EngineDevice): EngineDevice | null {
  if (!isUpdating(d.state)) return null;
  const next: EngineDevice = { ...d, state: 'verifying', recheck: true };
  delete next.health_until;
  return next;
}

export function fail(d: EngineDevice, code: string, message: string): EngineDevice {
  const next: EngineDevice = { ...d, state: 'failed', error: { code, message } };
  delete next.health_until;
  delete next.commit;
  return next;
}

/** Failed devices back to pending (the `retry` control), with a fresh attempt count. */
export function retryDevice(d: EngineDevice): EngineDevice | null {
  if (!isFailed(d.state)) return null;
  const next: EngineDevice = { ...d, state: 'pending', attempts: 0 };
  delete next.error;
  delete next.job;
  delete next.to_fw;
  return next;
}
