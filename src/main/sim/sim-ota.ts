/**
 * The simulated device's two-slot updater (PROTOCOL.md 2 `OTA.*`, PROTOCOL.md 6), modelled on
 * Mongoose OS: `OTA.Begin/Write/End` fill the inactive slot, the next boot runs it UNCOMMITTED,
 * `OTA.Commit` keeps it, and `OTA.Revert`, the commit timeout, or any reboot before the commit
 * boots the previous slot again. Pure state machine: the device decides when to reboot.
 */
import { FIRMWARE_ERROR, RpcFault } from './rpc-fault';
import { identifyImage } from './sim-image';

export interface FirmwareImage {
  fwVersion: string;
  fwId: string;
  app: string;
}

/** `OTA.GetBootState` result, field names as Mongoose OS sends them. */
export interface BootState {
  active_slot: number;
  is_committed: boolean;
  /** The slot a revert boots; -1 before the first update. */
  revert_slot: number;
  /** Seconds the running uncommitted image has to be committed; 0 when committed. */
  commit_timeout: number;
}

export interface BootOutcome {
  booted: 'same' | 'new' | 'reverted';
  /** Set when the new image runs uncommitted: revert unless committed within this time. */
  commitTimeoutMs: number | null;
}

/** Largest image a slot holds by default (a 4 MB ESP32 has two ~1.9 MB app slots). */
export const DEFAULT_MAX_IMAGE_BYTES = 1920 * 1024;
/** State.Set progress is sent when the percent moved by at least this much (task text). */
export const PROGRESS_STEP_PERCENT = 10;

interface Upload {
  size: number;
  written: number;
  data: Buffer;
  commitTimeoutS: number;
  lastReported: number;
}

export class SimOta {
  private readonly slots: [FirmwareImage | null, FirmwareImage | null];
  private activeSlot: 0 | 1 = 0;
  private committed = true;
  private revertSlot = -1;
  private commitTimeoutS = 0;
  private upload: Upload | null = null;
  private pending: { slot: 0 | 1; commitTimeoutS: number } | null = null;

  constructor(
    initial: FirmwareImage,
    private readonly maxImageBytes = DEFAULT_MAX_IMAGE_BYTES,
  ) {
    this.slots = [{ ...initial }, null];
  }

  get active(): FirmwareImage {
    const image = this.slots[this.activeSlot];
    if (image === null) throw new Error('active slot is empty'); // unreachable by construction
    return image;
  }

  get isCommitted(): boolean {
    return this.committed;
  }

  /** True while an upload is open (between OTA.Begin and OTA.End). */
  get uploading(): boolean {
    return this.upload !== null;
  }

  /** True when OTA.End succeeded and the new image waits for the reboot. */
  get awaitingReboot(): boolean {
    return this.pending !== null;
  }

  begin(size: number, commitTimeoutS: number): void {
    // The mDash library refuses a second OTA.Begin the same way.
    if (this.upload !== null || this.pending !== null) {
      throw new RpcFault(FIRMWARE_ERROR, 'OTA already in progress');
    }
    if (size <= 0) throw new RpcFault(FIRMWARE_ERROR, 'size must be positive');
    if (size > this.maxImageBytes) {
      throw new RpcFault(
        FIRMWARE_ERROR,
        `image of ${size} bytes does not fit the ${this.maxImageBytes}-byte update slot`,
      );
    }
    this.upload = {
      size,
      written: 0,
      data: Buffer.alloc(size),
      commitTimeoutS,
      lastReported: 0,
    };
  }

  /**
   * Appends one chunk. Chunks must arrive in order (PROTOCOL.md 6: sequential writes), so an
   * offset other than the bytes received so far is refused and changes nothing.
   * Returns the percent to report in `State.Set`, or null when it moved by less than 10
   * (the last chunk always reports 100).
   */
  write(offset: number, chunk: Buffer): { percent: number | null } {
    const up = this.upload;
    if (up === null) throw new RpcFault(FIRMWARE_ERROR, 'call OTA.Begin first');
    if (offset !== up.written) {
      throw new RpcFault(FIRMWARE_ERROR, `unexpected offset ${offset}, expected ${up.written}`);
    }
    if (up.written + chunk.length > up.size) {
      throw new RpcFault(
        FIRMWARE_ERROR,
        `data past the announced size (${up.written + chunk.length} > ${up.size})`,
      );
    }
    chunk.copy(up.data, up.written);
    up.written += chunk.length;
    const percent = Math.floor((up.written * 100) / up.size);
    const done = up.written === up.size && up.lastReported < 100;
    if (done || percent - up.lastReported >= PROGRESS_STEP_PERCENT) {
      up.lastReported = percent;
      return { percent };
    }
    return { percent: null };
  }

  /** Closes the upload; the image becomes the next boot's, uncommitted. */
  end(): FirmwareImage {
    const up = this.upload;
    if (up === null) throw new RpcFault(FIRMWARE_ERROR, 'call OTA.Begin first');
    this.upload = null;
    if (up.written !== up.size) {
      throw new RpcFault(FIRMWARE_ERROR, `incomplete image: got ${up.written} of ${up.size} bytes`);
    }
    const id = identifyImage(up.data);
    const image: FirmwareImage = {
      fwVersion: id.fwVersion,
      fwId: id.fwId,
      app: id.app ?? this.active.app,
    };
    const slot = this.activeSlot === 0 ? 1 : 0;
    this.slots[slot] = image;
    this.pending = { slot, commitTimeoutS: up.commitTimeoutS };
    return image;
  }

  /** Drops an unfinished upload (the session that fed it went away). */
  abortUpload(): void {
    this.upload = null;
  }

  commit(): void {
    this.committed = true;
    this.commitTimeoutS = 0;
  }

  /** Checks that there is something to revert to; the caller then reboots. */
  checkRevert(): void {
    if (this.committed) {
      throw new RpcFault(FIRMWARE_ERROR, 'nothing to revert: the running firmware is committed');
    }
  }

  bootState(): BootState {
    return {
      active_slot: this.activeSlot,
      is_committed: this.committed,
      revert_slot: this.revertSlot,
      commit_timeout: this.committed ? 0 : this.commitTimeoutS,
    };
  }

  /** What the boot loader does on every (re)boot. */
  boot(): BootOutcome {
    this.upload = null; // RAM does not survive a reboot
    if (this.pending !== null) {
      const { slot, commitTimeoutS } = this.pending;
      this.pending = null;
      this.revertSlot = this.activeSlot;
      this.activeSlot = slot;
      // Mongoose OS: commit_timeout 0 means the new image is committed right away.
      this.committed = commitTimeoutS <= 0;
      this.commitTimeoutS = this.committed ? 0 : commitTimeoutS;
      return { booted: 'new', commitTimeoutMs: this.committed ? null : commitTimeoutS * 1000 };
    }
    if (!this.committed && this.revertSlot >= 0) {
      // Rebooting before the commit (revert, timeout, crash) falls back to the previous image.
      const failed = this.activeSlot;
      this.activeSlot = this.revertSlot === 0 ? 0 : 1;
      this.revertSlot = failed;
      this.committed = true;
      this.commitTimeoutS = 0;
      return { booted: 'reverted', commitTimeoutMs: null };
    }
    return { booted: 'same', commitTimeoutMs: null };
  }
}
