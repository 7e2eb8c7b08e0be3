/**
 * The updater of the Arduino / ESP-IDF mDash library (PROTOCOL.md 6), as its source does it:
 * `OTA.Begin {"size"}` opens an update (refused with "OTA already in progress" while one is open,
 * also after the session that opened it went away: only `OTA.End` or a reboot closes it);
 * `OTA.Write` ignores `offset` and APPENDS `data`, replying `{"queued":n}`; `OTA.End` closes the
 * update and validates the image (esp_ota_end): a valid one boots at the next reboot, already
 * committed. There is no commit step, no slots to ask about. Errors are code 500 with the
 * library's messages (`esp_ota_end: 5379` is ESP_ERR_OTA_VALIDATE_FAILED).
 *
 * Memory: the device keeps only the image's first APP_HEAD_BYTES (for the app descriptor) and a
 * running sha256, never the image, so thousands of simulated devices can update at once.
 * Pure state machine: the device decides when to reboot.
 */
import { createHash, type Hash } from 'node:crypto';
import { RpcFault } from './rpc-fault';
import { APP_HEAD_BYTES, identifyAppImage } from './sim-image';
import { DEFAULT_MAX_IMAGE_BYTES, type BootOutcome, type FirmwareImage } from './sim-ota';

/** `mg_rpc_err(r, 500, ...)`: the code of every error the library replies. */
export const MDASH_ERROR = 500;
/** What the library reports as fw_version: MDASH_VERSION "-" framework. */
export const MDASH_LIBRARY_VERSION = '1.2.16-idf';
/** ESP-IDF error codes in the library's `esp_ota_*: %d` messages. */
export const ESP_ERR_NOT_FOUND = 0x105;
export const ESP_ERR_INVALID_SIZE = 0x104;
export const ESP_ERR_OTA_VALIDATE_FAILED = 0x1503;

interface Upload {
  size: number;
  written: number;
  writes: number;
  head: Buffer;
  hash: Hash;
}

export class ArduinoOta {
  readonly family = 'arduino';
  private running: FirmwareImage;
  private upload: Upload | null = null;
  /** esp_ota_begin gave a handle that esp_ota_end has not consumed yet. */
  private handleOpen = false;
  private pending: { image: FirmwareImage; bootFails: boolean } | null = null;

  constructor(
    initial: FirmwareImage,
    private readonly maxImageBytes = DEFAULT_MAX_IMAGE_BYTES,
  ) {
    this.running = { ...initial };
  }

  get active(): FirmwareImage {
    return this.running;
  }

  /** The library has no commit step: what runs is committed. */
  get isCommitted(): boolean {
    return true;
  }

  get uploading(): boolean {
    return this.upload !== null;
  }

  get awaitingReboot(): boolean {
    return this.pending !== null;
  }

  get writes(): number {
    return this.upload?.writes ?? 0;
  }

  begin(size: number): void {
    if (this.upload !== null) throw new RpcFault(MDASH_ERROR, 'OTA already in progress');
    this.upload = {
      size,
      written: 0,
      writes: 0,
      head: Buffer.alloc(Math.min(size, APP_HEAD_BYTES)),
      hash: createHash('sha256'),
    };
    this.handleOpen = true;
  }

  countWrite(): void {
    if (this.upload !== null) this.upload.writes++;
  }

  /**
   * Appends a chunk whatever offset the hub named. Returns the bytes queued and the percent the
   * library reports in `State.Set` (written * 100 / size, on every write, past 100 if the hub
   * sends more than it announced).
   */
  write(chunk: Buffer): { queued: number; percent: number } {
    const up = this.upload;
    if (up === null) throw new RpcFault(MDASH_ERROR, 'call OTA.Begin');
    if (up.written + chunk.length > this.maxImageBytes) {
      // esp_ota_write refuses data past the end of the update partition.
      throw new RpcFault(MDASH_ERROR, `esp_ota_write: ${ESP_ERR_INVALID_SIZE}`);
    }
    if (up.written < up.head.length) chunk.copy(up.head, up.written);
    up.hash.update(chunk);
    up.written += chunk.length;
    return { queued: chunk.length, percent: Math.floor((up.written * 100) / up.size) };
  }

  /**
   * Closes the update, always (the library clears it before validating), then validates: an
   * image of other than the announced size (an interrupted or padded transfer) fails, as does an
   * End with no update behind it. A valid image boots at the next reboot.
   */
  end(bootFails = false): FirmwareImage {
    const up = this.upload;
    this.upload = null;
    if (!this.handleOpen) throw new RpcFault(MDASH_ERROR, `esp_ota_end: ${ESP_ERR_NOT_FOUND}`);
    this.handleOpen = false;
    if (up === null || up.written !== up.size) {
      throw new RpcFault(MDASH_ERROR, `esp_ota_end: ${ESP_ERR_OTA_VALIDATE_FAILED}`);
    }
    const id = identifyAppImage(up.head, up.hash.digest('hex'));
    const image: FirmwareImage = {
      // The library's version: the same whatever app it is linked into.
      fwVersion: this.running.fwVersion,
      fwId: id.fwId,
      app: id.app ?? this.running.app,
      ...(id.appVersion !== undefined ? { appVersion: id.appVersion } : {}),
    };
    this.pending = { image, bootFails };
    return image;
  }

  /** The update outlives a lost connection: the next session must send OTA.End first. */
  onDisconnect(): void {
    // Nothing to do, on purpose (PROTOCOL.md 6).
  }

  /** A reboot closes any open update (RAM is gone) and boots the validated image, if any. */
  boot(): BootOutcome {
    this.upload = null;
    this.handleOpen = false;
    const pending = this.pending;
    this.pending = null;
    if (pending === null) return { booted: 'same', commitTimeoutMs: null };
    // A fault: the new app crashed at boot and the boot loader rolled back to the running one.
    if (pending.bootFails) return { booted: 'reverted', commitTimeoutMs: null };
    this.running = pending.image;
    return { booted: 'new', commitTimeoutMs: null };
  }
}
