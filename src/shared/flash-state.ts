/**
 * The states a flash job moves through (DESIGN.md example 3). One union serves ESP and STM32
 * jobs, the worker protocol, the `flash.*` notifications and the dashboard.
 */
export type FlashErrorCode =
  | 'no_sync'
  | 'wrong_chip'
  | 'image_too_large'
  | 'bad_image'
  | 'port_not_found'
  | 'port_busy'
  | 'port_vanished'
  | 'verify_failed'
  | 'timeout'
  | 'protocol_error'
  | 'provision_failed'
  | 'cancelled'
  | 'internal';

export interface ChipInfo {
  /** e.g. 'ESP32', 'ESP32-S3', 'STM32F10xx Medium-density'. */
  chip: string;
  /** Lower-case colon-separated MAC for ESP chips; undefined for STM32. */
  mac?: string;
  /** e.g. '4MB', '128KB'. */
  flashSize?: string;
  /** Extra facts (features, crystal, bootloader version, PID). */
  details?: Record<string, string | number>;
}

export type FlashState =
  | { state: 'queued' }
  | { state: 'detecting' }
  | { state: 'connecting'; attempt?: number }
  | { state: 'uploading_stub' }
  | { state: 'erasing' }
  | { state: 'writing'; bytes: number; total: number; file?: number; files?: number }
  | { state: 'verifying' }
  | { state: 'resetting' }
  | { state: 'provisioning'; step: string }
  | { state: 'waiting_online'; deviceId: string }
  | { state: 'done'; durationMs: number; chip?: ChipInfo; deviceId?: string }
  | { state: 'failed'; code: FlashErrorCode; message: string; hint?: string }
  | { state: 'cancelled' };

export type FlashStateName = FlashState['state'];

/** An error a flashing step throws; the job turns it into a `failed` state. */
export class FlashError extends Error {
  override readonly name = 'FlashError';
  constructor(
    readonly code: FlashErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
