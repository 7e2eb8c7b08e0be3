/**
 * Pure decisions of single-device OTA (PROTOCOL.md 6): what the device's `fw_id` after the
 * reboot means, and whether a firmware fits a device's platform. No I/O.
 */
import type { OtaJobError, OtaJobState } from '../../shared/ota';

export interface OutcomeInput {
  /** fw_id before the update. */
  from: string;
  /** fw_id after it came back. */
  after: string;
  /** fw_id the library learned for this firmware from an earlier update, if any. */
  expected?: string;
}

export type Outcome =
  { state: 'done' } | { state: Extract<OtaJobState, 'failed' | 'rolled_back'>; error: OtaJobError };

/**
 * Success = a different fw_id than before, and the known one when the hub knows it; the same as
 * before = rolled back (the new image did not boot, or was reverted).
 */
export function decideOutcome(o: OutcomeInput): Outcome {
  if (o.after === '') {
    return {
      state: 'failed',
      error: {
        code: 'ota_unexpected_firmware',
        message: 'the device reports no fw_id after the update',
      },
    };
  }
  // The same image sent again: it runs as the fw_id learned for it, which it also ran before.
  if (o.after === o.from && o.expected !== undefined && o.after === o.expected) {
    return { state: 'done' };
  }
  if (o.after === o.from) {
    return {
      state: 'rolled_back',
      error: {
        code: 'ota_rolled_back',
        message: `the device came back on its previous firmware (fw_id ${o.from})`,
      },
    };
  }
  if (o.expected !== undefined && o.expected !== '' && o.after !== o.expected) {
    return {
      state: 'failed',
      error: {
        code: 'ota_unexpected_firmware',
        message: `the device came back with fw_id ${o.after}, but this firmware runs as ${o.expected}`,
      },
    };
  }
  return { state: 'done' };
}

/** Mongoose OS platforms and ESP chips are compared without case; "" means "not known". */
export function platformMismatch(firmwarePlatform: string, deviceArch: string): boolean {
  const f = firmwarePlatform.trim().toLowerCase();
  const d = deviceArch.trim().toLowerCase();
  return f !== '' && d !== '' && f !== d;
}

/** Throttle for `ota.progress` (every whole percent, or every `intervalMs`, and the last byte). */
export class ProgressThrottle {
  private lastPercent = -1;
  private lastAt = -Infinity;

  constructor(private readonly intervalMs: number) {}

  shouldEmit(percent: number, done: boolean, now: number): boolean {
    if (!done && percent === this.lastPercent && now - this.lastAt < this.intervalMs) return false;
    this.lastPercent = percent;
    this.lastAt = now;
    return true;
  }
}

export const percentOf = (bytes: number, total: number): number =>
  total <= 0 ? 100 : Math.min(100, Math.floor((bytes * 100) / total));
