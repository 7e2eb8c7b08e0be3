/**
 * The pure planning half of staged rollouts (issue 8, PROTOCOL.md 9): which devices a rollout
 * targets, how they split into waves, what `n` / `"n%"` amounts mean, and which devices are left
 * out (already on the firmware, offline under `offline: "skip"`). Values in, values out: no
 * clock, no store, no sockets, so every rule here is unit-tested on its own.
 */

/** A count (`5`) or a share of some total (`"10%"`), as PROTOCOL.md 9 writes waves and thresholds. */
export type Amount = number | string;

export type OfflinePolicy = 'wait' | 'skip';

/** A rollout's options after defaults were filled in (what is stored with it). */
export interface RolloutSpec {
  firmware: string;
  /** Device ids named explicitly. */
  devices: string[];
  /** Comma-separated labels (`tags.labels`); a device matching ANY of them is targeted. */
  labels: string;
  waves: Amount[];
  max_failures: Amount;
  /** Seconds a device must stay online on the new firmware before it counts as done. */
  health_s: number;
  /** Devices with an unfinished job of this rollout at once (health windows do not count). */
  concurrency: number;
  skip_current: boolean;
  offline: OfflinePolicy;
  /**
   * The next wave starts once this many (or this share) of the current wave's devices are done.
   * Absent: once every online device of the wave is done or failed.
   */
  wave_success?: Amount;
  /** Set on the rollout that sends the previous firmware back (its origin). */
  rollback_of?: string;
}

/** What the planner needs to know about one registered device. */
export interface DeviceFacts {
  id: string;
  online: boolean;
  /** Parsed `shadow.tags.labels`. */
  labels: string[];
  /** Reports (`reported.ota.fw_id`) the firmware this rollout sends it. */
  current: boolean;
}

export interface PlannedDevice {
  id: string;
  wave: number;
  state: 'pending' | 'skipped';
  skip?: 'current' | 'offline';
}

export interface Plan {
  devices: PlannedDevice[];
  /** Devices per wave, skipped devices not counted. */
  waves: number[];
  skipped: { current: number; offline: number };
  /** Pending devices that are offline now (`offline: "wait"`: they are updated when they come). */
  offline_waiting: number;
  /** Ids named in `devices` that are not registered. */
  missing: string[];
}

const PERCENT = /^(\d{1,3}(?:\.\d{1,3})?)%$/;

/** `"a, b,,c"` -> `["a","b","c"]`. */
export function splitLabels(labels: string | undefined): string[] {
  if (labels === undefined) return [];
  return labels
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** The labels of a device, from its shadow's `tags.labels` (a comma-separated string). */
export function labelsOfTags(tags: unknown): string[] {
  if (typeof tags !== 'object' || tags === null) return [];
  const labels = (tags as Record<string, unknown>)['labels'];
  return typeof labels === 'string' ? splitLabels(labels) : [];
}

/** Whether an amount is well formed: a positive integer, or a percentage in (0, 100]. */
export function amountProblem(a: Amount): string | null {
  if (typeof a === 'number') {
    return Number.isInteger(a) && a >= 1 ? null : 'a count must be a whole number >= 1';
  }
  const m = PERCENT.exec(a);
  const pct = m ? Number(m[1]) : NaN;
  return pct > 0 && pct <= 100 ? null : `'${a}' is not a percentage in (0%, 100%]`;
}

/** An amount against a total: counts as they are, percentages rounded up, at least 1. */
export function resolveAmount(a: Amount, total: number): number {
  if (typeof a === 'number') return a;
  const m = PERCENT.exec(a);
  const pct = m ? Number(m[1]) : 100;
  return Math.max(1, Math.ceil((pct * total) / 100 - 1e-9));
}

/**
 * Wave sizes for `total` devices: each entry takes its amount of what is left, the last one
 * takes the rest. Waves that would be empty are dropped; there is always at least one wave.
 */
export function waveSizes(waves: readonly Amount[], total: number): number[] {
  const sizes: number[] = [];
  let left = total;
  waves.forEach((w, i) => {
    if (left <= 0) return;
    const n = i === waves.length - 1 ? left : Math.min(left, resolveAmount(w, total));
    sizes.push(n);
    left -= n;
  });
  return sizes.length === 0 ? [0] : sizes;
}

/** Whether a device is in the target: named by id, or carrying any of the labels. */
export function inTarget(spec: Pick<RolloutSpec, 'devices' | 'labels'>, d: DeviceFacts): boolean {
  if (spec.devices.includes(d.id)) return true;
  const wanted = splitLabels(spec.labels);
  return wanted.length > 0 && d.labels.some((l) => wanted.includes(l));
}

/**
 * Plans a rollout over the registered devices (`registry`, in registry order). Named devices
 * come first in the order given, then label matches; online devices are put before offline ones
 * so the first waves are the ones that can start at once. Skipped devices get wave 0 and do not
 * count in the wave sizes or the percentages.
 */
export function planRollout(spec: RolloutSpec, registry: readonly DeviceFacts[]): Plan {
  const byId = new Map(registry.map((d) => [d.id, d]));
  const seen = new Set<string>();
  const targeted: DeviceFacts[] = [];
  const missing: string[] = [];
  for (const id of spec.devices) {
    if (seen.has(id)) continue;
    seen.add(id);
    const d = byId.get(id);
    if (d) targeted.push(d);
    else missing.push(id);
  }
  for (const d of registry) {
    if (!seen.has(d.id) && inTarget({ devices: [], labels: spec.labels }, d)) {
      seen.add(d.id);
      targeted.push(d);
    }
  }
  const skipped: PlannedDevice[] = [];
  const eligible: DeviceFacts[] = [];
  for (const d of targeted) {
    if (spec.skip_current && d.current) skipped.push(skippedDevice(d.id, 'current'));
    else if (!d.online && spec.offline === 'skip') skipped.push(skippedDevice(d.id, 'offline'));
    else eligible.push(d);
  }
  // Stable: online first, the given order otherwise.
  const ordered = [...eligible.filter((d) => d.online), ...eligible.filter((d) => !d.online)];
  const sizes = waveSizes(spec.waves, ordered.length);
  const devices: PlannedDevice[] = [];
  let at = 0;
  sizes.forEach((n, wave) => {
    for (const d of ordered.slice(at, at + n)) devices.push({ id: d.id, wave, state: 'pending' });
    at += n;
  });
  return {
    devices: [...devices, ...skipped],
    waves: sizes,
    skipped: {
      current: skipped.filter((d) => d.skip === 'current').length,
      offline: skipped.filter((d) => d.skip === 'offline').length,
    },
    offline_waiting: ordered.filter((d) => !d.online).length,
    missing,
  };
}

function skippedDevice(id: string, skip: 'current' | 'offline'): PlannedDevice {
  return { id, wave: 0, state: 'skipped', skip };
}
