/**
 * Pure helpers of the firmware, OTA and rollout pages: state labels and tones, progress percent,
 * the firmware a device runs (PROTOCOL.md 6: only `fw_id` tells two Arduino-library builds apart,
 * and the hub learns which `fw_id` a library firmware produces from its first update).
 */
import type { DeviceObject, Json } from '../../shared/types';
import type { FirmwareView, OtaJobView, RolloutView } from '../api/schemas';

export type Tone = 'ok' | 'warn' | 'danger' | 'active' | 'muted';

const JOB_LABELS: Record<string, string> = {
  queued: 'Queued',
  sending: 'Sending',
  rebooting: 'Rebooting',
  verifying: 'Verifying',
  done: 'Done',
  failed: 'Failed',
  rolled_back: 'Rolled back',
  cancelled: 'Cancelled',
  pending: 'Pending',
  skipped: 'Skipped',
};

export function jobStateLabel(state: string): string {
  return JOB_LABELS[state] ?? state;
}

export function stateTone(state: string): Tone {
  switch (state) {
    case 'done':
    case 'completed':
      return 'ok';
    case 'failed':
    case 'aborted':
      return 'danger';
    case 'rolled_back':
    case 'paused':
      return 'warn';
    case 'cancelled':
    case 'skipped':
    case 'pending':
      return 'muted';
    default:
      return 'active';
  }
}

export const FINAL_JOB_STATES = ['done', 'failed', 'rolled_back', 'cancelled'];

export function isJobActive(job: Pick<OtaJobView, 'state'>): boolean {
  return !FINAL_JOB_STATES.includes(job.state);
}

/** 0..100 for the bar: sending by bytes, the steps after it at 100. */
export function jobPercent(job: Pick<OtaJobView, 'state' | 'bytes' | 'total'>): number {
  if (job.state === 'queued') return 0;
  if (job.state === 'sending') {
    return job.total > 0 ? Math.min(100, Math.floor((job.bytes * 100) / job.total)) : 0;
  }
  return job.state === 'cancelled' || job.state === 'failed'
    ? job.total > 0
      ? Math.min(100, Math.floor((job.bytes * 100) / job.total))
      : 0
    : 100;
}

/** The one line under the bar: "Sending 42%", "Failed: device_offline: …". */
export function jobSummary(job: OtaJobView): string {
  const label = jobStateLabel(job.state);
  if (job.state === 'sending') return `${label} ${jobPercent(job)}%`;
  if (job.error) return `${label}: ${job.error.message}`;
  if (job.state === 'rebooting') return 'Rebooting into the new firmware…';
  if (job.state === 'verifying') return 'Verifying the firmware the device reports…';
  if (job.state === 'done' && job.uncommitted)
    return 'Done: running the new firmware, not committed yet';
  return label;
}

function child(value: Json | undefined, key: string): Json | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value[key];
}

/** `state.reported.ota.fw_id` as Sys.GetInfo reported it, "" when unknown. */
export function reportedFwId(device: DeviceObject): string {
  const v = child(child(device.shadow?.state?.reported, 'ota'), 'fw_id');
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

/** `tags.labels`: "a,b" or ["a","b"]. */
export function deviceLabels(device: DeviceObject): string[] {
  const v = device.shadow?.tags?.labels;
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string');
  return [];
}

/** The library firmware whose learned `fw_id` the device reports, if any. */
export function runningFirmware(
  fwId: string,
  library: readonly FirmwareView[],
): FirmwareView | undefined {
  if (fwId === '') return undefined;
  return library.find((f) => f.fw_id === fwId);
}

/** "blinky 1.2.0 (esp32)". */
export function firmwareLabel(f: FirmwareView): string {
  const platform = f.platform !== '' ? ` (${f.platform})` : '';
  return `${f.name || f.id}${f.version !== '' ? ` ${f.version}` : ''}${platform}`;
}

/** Devices of one wave that ended (done, failed, skipped, ...) out of its size. */
export function waveProgress(
  rollout: RolloutView,
  wave: number,
): { finished: number; failed: number; size: number } {
  const w = rollout.waves[wave];
  const size = w?.size ?? 0;
  if (rollout.devices) {
    let finished = 0;
    let failed = 0;
    for (const d of rollout.devices) {
      if (d.wave !== wave) continue;
      if (['done', 'skipped', 'failed', 'rolled_back', 'cancelled'].includes(d.state)) finished++;
      if (['failed', 'rolled_back'].includes(d.state)) failed++;
    }
    return { finished, failed, size };
  }
  if (w?.done !== undefined)
    return { finished: w.done + (w.failed ?? 0), failed: w.failed ?? 0, size };
  return { finished: w?.state === 'done' ? size : 0, failed: 0, size };
}
