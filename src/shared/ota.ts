/**
 * OTA jobs and fleet rollouts as the REST API and notifications carry them (PROTOCOL.md 9).
 * Shared by the hub, the CLI and the dashboard; no Node, DOM or Electron imports. Fields may be
 * added; the names here are a contract and are never renamed.
 */

/** Job states (PROTOCOL.md 9), in the order a job normally passes through them. */
export const OTA_JOB_STATES = [
  'queued',
  'sending',
  'rebooting',
  'verifying',
  'done',
  'failed',
  'rolled_back',
  'cancelled',
] as const;
export type OtaJobState = (typeof OTA_JOB_STATES)[number];

/** States after which a job never changes again. */
export const OTA_FINAL_STATES: readonly OtaJobState[] = [
  'done',
  'failed',
  'rolled_back',
  'cancelled',
];

export const isFinalOtaState = (s: OtaJobState): boolean => OTA_FINAL_STATES.includes(s);

/** Which real firmware family the device turned out to be (PROTOCOL.md 6), told apart by replies. */
export type OtaFamily = 'arduino' | 'mos' | 'unknown';

export interface OtaJobError {
  /** A catalog error name such as `device_offline`, `device_error`, `ota_timeout`. */
  code: string;
  message: string;
}

/** The job object (PROTOCOL.md 9). */
export interface OtaJob {
  id: string;
  device: string;
  /** Library firmware id. */
  firmware: string;
  state: OtaJobState;
  bytes: number;
  total: number;
  /** `fw_id` the device reported before the update. */
  from_fw: string;
  /** `fw_id` it reported after it came back ("" until then). */
  to_fw: string;
  error?: OtaJobError;
  /** Unix seconds. */
  created: number;
  /** Unix seconds; null while the job runs. */
  ended: number | null;
  family: OtaFamily;
  /** Mongoose OS: the device runs the new image but has not committed it yet. */
  uncommitted?: boolean;
  /** Mongoose OS: the new image was reverted through `/ota/revert` after the job ended. */
  reverted?: boolean;
  /** The rollout this job belongs to, if any. */
  rollout?: string;
  /**
   * Unix milliseconds at which the job entered each state it went through (hub clock): how long
   * the transfer (`sending` to `rebooting`) and the reboot took, without watching notifications.
   */
  timeline?: Partial<Record<OtaJobState, number>>;
}

/** Data of the `ota.progress` notification (PROTOCOL.md 6). */
export interface OtaProgress {
  job: string;
  percent: number;
  bytes: number;
  total: number;
}

export const ROLLOUT_STATES = ['running', 'paused', 'completed', 'aborted'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export type RolloutDeviceState = OtaJobState | 'pending' | 'skipped';

export type WaveState = 'pending' | 'running' | 'done';

export interface RolloutWave {
  size: number;
  state: WaveState;
}

export interface RolloutCounts {
  pending: number;
  updating: number;
  done: number;
  failed: number;
  skipped: number;
}

export interface RolloutDevice {
  id: string;
  state: RolloutDeviceState;
  wave: number;
  job?: string;
  error?: OtaJobError;
  /** Jobs this rollout started for the device. */
  attempts?: number;
  /** Per-device firmware instead of the rollout's (a rollback rollout: each its previous one). */
  firmware?: string;
  from_fw?: string;
  to_fw?: string;
  /** Unix seconds: end of the health window while it runs. */
  health_until?: number;
}

/** The options a rollout was created with, defaults filled in (PROTOCOL.md 9 request fields). */
export interface RolloutOptions {
  devices: string[];
  labels: string;
  waves: (number | string)[];
  max_failures: number | string;
  health_s: number;
  concurrency: number;
  skip_current: boolean;
  offline: 'wait' | 'skip';
  wave_success?: number | string;
}

/** `POST /rollouts/preview`: what a rollout would do now. */
export interface RolloutPreview {
  /** Devices each wave would take. */
  waves: number[];
  total: number;
  skipped: { current: number; offline: number };
  /** Offline devices kept pending (`offline: "wait"`). */
  offline_waiting: number;
  max_failures: number;
}

/** A device a rollback rollout cannot include, and why. */
export interface RollbackGap {
  id: string;
  reason: string;
}

/** The rollout object (PROTOCOL.md 9); GET one adds `devices`. */
export interface Rollout {
  id: string;
  firmware: string;
  state: RolloutState;
  waves: RolloutWave[];
  counts: RolloutCounts;
  created: number;
  ended: number | null;
  devices?: RolloutDevice[];
  options?: RolloutOptions;
  /** Why it paused itself or ended. */
  reason?: string;
  /** Waves started so far. */
  current_wave?: number;
  /** A rollback rollout: the rollout whose firmware it takes back. */
  rollback_of?: string;
  /** A rollback rollout: devices it could not include (no known previous firmware). */
  unavailable?: RollbackGap[];
}
