/**
 * The simulated device's two-slot updater (PROTOCOL.md 2 `OTA.*`, PROTOCOL.md 6), modelled on
 * Mongoose OS: `OTA.Begin/Write/End` fill the inactive slot at the offsets the hub names, the
 * next boot runs it UNCOMMITTED, `OTA.Commit` keeps it, and `OTA.Revert`, the commit timeout, or
 * any reboot before the commit boots the previous slot again. Pure state machine: the device
 * decides when to reboot. The Arduino library's updater is sim-ota-arduino.ts.
 */
import { FIRMWARE_ERROR, RpcFault } from './rpc-fault';
import { identifyImage } from './sim-image';

/** The two families of real firmware (PROTOCOL.md 6). */
export type SimFamily = 'mos' | 'arduino';
export const SIM_FAMILIES: readonly SimFamily[] = ['mos', 'arduino'];

export interface FirmwareImage {
  fwVersion: string;
  fwId: string;
  app: string;
  /** An Arduino app's descriptor version: not reported by the library, kept for tests. */
  appVersion?: string;
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

interface Upload {
  size: number;
  /** Bytes received so far: the next offset a sequential writer sends. */
  written: number;
  /** OTA.Write calls in this upload (fault injection counts them). */
  writes: number;
  /** The one copy of the image this device holds; dropped at OTA.End or a reboot. */
  data: Buffer;
  commitTimeoutS: number;
}

export class SimOta {
  readonly family = 'mos';
  private readonly slots: [FirmwareImage | null, FirmwareImage | null];
  private activeSlot: 0 | 1 = 0;
  private committed = true;
  private revertSlot = -1;
  private commitTimeoutS = 0;
  private upload: Upload | null = null;
  private pending: { slot: 0 | 1; commitTimeoutS: number; bootFails: boolean } | null = null;

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

  /** OTA.Write calls in the open upload (0 when none is open). */
  get writes(): number {
    return this.upload?.writes ?? 0;
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
    this.upload = { size, written: 0, writes: 0, data: Buffer.alloc(size), commitTimeoutS };
  }

  /** Counts one OTA.Write of the open upload (also one that a fault then refuses). */
  countWrite(): void {
    if (this.upload !== null) this.upload.writes++;
  }

  /**
   * Writes one chunk at `offset`. Mongoose OS honours offsets: a chunk sent again (the hub
   * retrying a write whose reply it lost) overwrites the same bytes; a gap past the bytes
   * received so far is refused and changes nothing, and so is data past the announced size.
   */
  write(offset: number, chunk: Buffer): void {
    const up = this.upload;
    if (up === null) throw new RpcFault(FIRMWARE_ERROR, 'call OTA.Begin first');
    if (offset > up.written) {
      throw new RpcFault(FIRMWARE_ERROR, `unexpected offset ${offset}, expected ${up.written}`);
    }
    if (offset + chunk.length > up.size) {
      throw new RpcFault(
        FIRMWARE_ERROR,
        `data past the announced size (${offset + chunk.length} > ${up.size})`,
      );
    }
    chunk.copy(up.data, offset);
    up.written = Math.max(up.written, offset + chunk.length);
  }

  /**
   * Closes the upload (also when it fails: the next OTA.Begin starts over); a complete image
   * becomes the next boot's, uncommitted. `bootFails` (a fault): the new image will not boot
   * and the boot loader falls back to the running one.
   */
  end(bootFails = false): FirmwareImage {
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
    this.pending = { slot, commitTimeoutS: up.commitTimeoutS, bootFails };
    return image;
  }

  /** Drops an unfinished upload (the session that fed it went away). */
  abortUpload(): void {
    this.upload = null;
  }

  /** Mongoose OS ties an upload to its RPC session: a lost connection drops it. */
  onDisconnect(): void {
    this.abortUpload();
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
      const { slot, commitTimeoutS, bootFails } = this.pending;
      this.pending = null;
      if (bootFails) {
        // The new slot crashed at boot; the boot loader went back to the running one.
        this.revertSlot = slot;
        return { booted: 'reverted', commitTimeoutMs: null };
      }
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
