/**
 * esptool-js `ESPLoader` with a cheaper write path and a few hooks for job states.
 *
 * Why a subclass (FLASHING.md 1.5-c, 6): `ESPLoader.writeFlash()` in 0.7.0 keeps an
 * `Inflate({chunkSize: 1})` only to count how many image bytes each compressed block stands for.
 * That re-inflation emits one callback per output byte, about 1.6 s of blocked event loop per MiB,
 * which made flashing ~1.6x slower than the wire allows. `writeImages()` sends exactly the same
 * commands in the same order (FLASH_DEFL_BEGIN, 16 KiB FLASH_DEFL_DATA blocks with esptool-js's
 * own retry/timeout rules via `flashDeflBlock`, FLASH_DEFL_END(stay) on the stub, SPI_FLASH_MD5)
 * but counts image bytes with fflate's streaming inflater, which hands back whole output chunks
 * (~3 ms per 16 KiB block). The compressed stream comes from Node's native zlib at level 9, the
 * same format and level esptool uses (pako in esptool-js, `zlib.compress(…, 9)` in esptool.py).
 *
 * The MD5 check is part of every write, as in esptool-js `writeFlash` and esptool.py ("Hash of
 * data verified"): the stub ACKs a block when it arrives, not when the flash took it, so the MD5 is
 * the only proof that the chip holds the image, and a mismatch fails the write (`verify_failed`).
 * It runs once after the last file (`onVerify` first), so a job reports `writing` for every file
 * and then `verifying` once, instead of interleaving the two.
 */
import { deflateSync } from 'node:zlib';
import { Unzlib } from 'fflate';
import {
  ESPLoader,
  type FlashFreqValues,
  type FlashModeValues,
  type FlashSizeValues,
  type LoaderOptions,
  type ResetStrategy,
} from 'esptool-js';
import { FlashError } from '../../../shared/flash-state';
import { EventTransport } from './event-transport';

export interface LoaderHooks {
  /** Called before every connect attempt (reset + up to 5 SYNCs), numbered from 1. */
  onConnectAttempt?: (attempt: number) => void;
  /** Called when the stub is about to be uploaded to RAM. */
  onStubUpload?: () => void;
  /**
   * Cancels the connect loop: esptool-js retries a failed attempt up to 7 times (with resets and
   * sleeps), also when the port was closed under it, so a cancel must stop the loop itself.
   */
  signal?: AbortSignal;
  /**
   * True when a reset sequence cannot do anything on this port (no DTR/RTS, e.g. a pty): the
   * first connect attempt then skips the 150 ms of sleeps in esptool-js's classic reset.
   */
  resetIsNoop?: () => Promise<boolean>;
}

/**
 * Chips whose ROM loader takes CHANGE_BAUDRATE before the stub runs, so the stub is uploaded at the
 * fast baud (4x sooner at 460800) and never changes it again. ESP32: esptool.py itself changes the
 * ROM's baud with `--no-stub` (second word 0, as its serial-protocol docs say for the ROM); the ROM
 * derives the divider from the crystal it detected at boot; and the flasher stub's `stub_main`
 * leaves the UART divider alone (esptool flasher_stub/stub_flasher.c), so the stub keeps talking at
 * the speed the ROM was set to. Other chips keep esptool's order (stub first, then the baud): the
 * ESP32-C2 ROM, for one, assumes a 40 MHz crystal and needs esptool's baud correction on 26 MHz
 * boards, and the ESP8266 ROM is not known to take the command.
 */
export const BAUD_BEFORE_STUB: ReadonlySet<string> = new Set(['ESP32']);

/**
 * Chips identified by their magic register alone, before esptool-js's GET_SECURITY_INFO probe:
 * their ROMs do not have that command (esptool-js falls back to the magic value for them anyway),
 * so the probe only costs a round trip and a drain of the error replies. esptool.py 3.x identifies
 * every chip by the magic register. Other chips keep esptool-js's order (the probe also tells
 * Secure Download Mode on chips that have it).
 */
export const IDENTIFY_BY_MAGIC: ReadonlySet<string> = new Set(['ESP32', 'ESP8266']);

/** ESPLoader fields the d.ts declares private which the connect sequence below needs. */
interface LoaderInternals {
  baudrate: number;
  romBaudrate: number;
  syncStubDetected: boolean;
  identifyChip: () => Promise<ESPLoader['chip']>;
  chipFromMagicValue: () => Promise<ESPLoader['chip']>;
}

export interface WriteImagesOptions {
  images: { address: number; data: Uint8Array }[];
  compress: boolean;
  flashMode: FlashModeValues;
  flashFreq: FlashFreqValues;
  /** A concrete size or 'keep' ('detect' must be resolved by the caller). */
  flashSize: Exclude<FlashSizeValues, 'detect'>;
  /**
   * Same contract as esptool-js `FlashOptions.calculateMD5Hash`: hex MD5 of the padded image. When
   * given, the chip's MD5 of every written region must match it or the write fails.
   */
  calculateMD5Hash?: (image: Uint8Array) => string;
  /** Called once after the last file is sent, before the MD5 checks. */
  onVerify?: () => void;
  /** Image bytes of file `index` the chip has been sent so far (not compressed bytes). */
  onProgress?: (index: number, written: number, total: number) => void;
  signal?: AbortSignal;
}

export interface WrittenImage {
  address: number;
  /** Image size as written (padded to 4 bytes like esptool does). */
  size: number;
  /** Payload bytes sent in data blocks (compressed size when compressing). */
  wireBytes: number;
  /** Hex MD5 of the written image, when `calculateMD5Hash` was given. */
  md5?: string;
}

function padTo4(data: Uint8Array): Uint8Array {
  const rem = data.length % 4;
  if (rem === 0) return data;
  const out = new Uint8Array(data.length + 4 - rem).fill(0xff);
  out.set(data);
  return out;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FlashError('cancelled', 'flashing was cancelled');
}

export class FastEspLoader extends ESPLoader {
  /** esptool-js's explanation of the last failed connect attempt (e.g. wrong boot mode). */
  lastConnectError: string | undefined;
  private connectAttempts = 0;
  private readonly hooks: LoaderHooks;

  constructor(options: LoaderOptions, hooks: LoaderHooks = {}) {
    super(options);
    this.hooks = hooks;
    // `identifyChip` is private in esptool-js's typings, so it is wrapped here, not overridden.
    const me = this.internals;
    const identify = me.identifyChip.bind(this);
    const byMagic = me.chipFromMagicValue.bind(this);
    me.identifyChip = async () => {
      try {
        const chip = await byMagic();
        if (chip.USES_MAGIC_VALUE && IDENTIFY_BY_MAGIC.has(chip.CHIP_NAME)) return chip;
      } catch {
        // Unknown magic, or a ROM that refuses register reads (Secure Download Mode): ask the
        // way esptool-js does.
      }
      return identify();
    };
  }

  override async _connectAttempt(
    mode: string | undefined,
    resetStrategy: ResetStrategy | null,
  ): Promise<string> {
    throwIfAborted(this.hooks.signal);
    this.hooks.onConnectAttempt?.(++this.connectAttempts);
    const result = await super._connectAttempt(mode, resetStrategy);
    // Keep the most telling diagnosis: a boot log seen on any attempt says more than the last
    // attempt's "Invalid head of packet".
    if (result !== 'success' && result && !/boot mode/i.test(this.lastConnectError ?? '')) {
      this.lastConnectError = result;
    }
    return result;
  }

  override async runStub(): ReturnType<ESPLoader['runStub']> {
    this.hooks.onStubUpload?.();
    return super.runStub();
  }

  override constructResetSequence(
    mode: Parameters<ESPLoader['constructResetSequence']>[0],
  ): ResetStrategy[] {
    const check = this.hooks.resetIsNoop;
    return super.constructResetSequence(mode).map((strategy) =>
      check
        ? {
            transport: strategy.transport,
            // Only the first attempt skips: when its SYNC fails, the later attempts keep
            // esptool-js's pauses, which give a running app's boot log time to arrive and be
            // diagnosed ("Wrong boot mode").
            reset: async () =>
              this.connectAttempts <= 1 && (await check()) ? undefined : strategy.reset(),
          }
        : strategy,
    );
  }

  override async changeBaud(): Promise<void> {
    // Same command, wait and fallback as esptool-js; only its 100 ms drain becomes a flush.
    if (!this.secureDownloadMode && this.transport instanceof EventTransport) {
      this.transport.flushInsteadOfNextDrain();
    }
    return super.changeBaud();
  }

  private get internals(): LoaderInternals {
    return this as unknown as LoaderInternals;
  }

  /** The flash ID read while connecting (main), so callers need not read it again. */
  flashIdAtConnect: number | undefined;

  /**
   * esptool-js `main()` minus what costs time without changing the outcome (issue 11, flashing end
   * to end): connect and detect the chip; on chips in BAUD_BEFORE_STUB change the baud while the
   * ROM still runs and upload the stub at the fast speed; otherwise stub first, then the baud (as
   * esptool-js and esptool.py do). The chip description/features/crystal/MAC reads esptool-js
   * makes at the ROM's 115200 only feed its log: flash-esp.ts reads the description and MAC once
   * the line is fast. Secure Download Mode and a stub already running take esptool-js's own path.
   */
  override async main(mode: Parameters<ESPLoader['main']>[0] = 'default_reset'): Promise<string> {
    const me = this.internals;
    await this.detectChip(mode);
    if (this.secureDownloadMode) {
      // As esptool-js: no register reads; runStub and changeBaud only log that SDM rules them out.
      await this.runStub();
      if (me.romBaudrate !== me.baudrate) await this.changeBaud();
      return this.chip.CHIP_NAME;
    }
    if (typeof this.chip.postConnect !== 'undefined') await this.chip.postConnect(this);
    const fast = me.romBaudrate !== me.baudrate;
    const early = fast && !me.syncStubDetected && BAUD_BEFORE_STUB.has(this.chip.CHIP_NAME);
    if (early) {
      this.info(`Changing the ROM loader's baud rate to ${me.baudrate} before the stub upload`);
      // esptool-js's changeBaud sends 0 as the second word while IS_STUB is false (the ROM's
      // form). If the chip stops answering it reconnects at the ROM baud and runs the stub itself.
      await this.changeBaud();
    }
    if (!this.IS_STUB) await this.runStub();
    if (fast && !early) await this.changeBaud();
    const flashId = await this.readFlashId();
    this.flashIdAtConnect = flashId;
    this.info('Flash ID: ' + flashId.toString(16));
    if (flashId === 0xffffff || flashId === 0x000000) {
      this.info(
        'WARNING: Failed to communicate with the flash chip, read/write operations will fail.',
      );
    }
    return this.chip.CHIP_NAME;
  }

  /**
   * Writes each image in turn (progress in image bytes), then checks the chip's MD5 of each one
   * against `calculateMD5Hash` and throws `verify_failed` on a mismatch.
   */
  async writeImages(opts: WriteImagesOptions): Promise<WrittenImage[]> {
    const written: WrittenImage[] = [];
    for (const [index, file] of opts.images.entries()) {
      throwIfAborted(opts.signal);
      let image = padTo4(file.data);
      image = await this._updateImageFlashParams(
        image,
        file.address,
        opts.flashMode,
        opts.flashFreq,
        opts.flashSize,
      );
      const md5 = opts.calculateMD5Hash?.(image);
      const started = Date.now();
      const wireBytes = opts.compress
        ? await this.writeCompressed(index, image, file.address, opts)
        : await this.writePlain(index, image, file.address, opts);
      const seconds = (Date.now() - started) / 1000;
      this.info(
        `Wrote ${image.length} bytes (${wireBytes} on the wire) at 0x${file.address.toString(16)} in ${seconds.toFixed(2)} s`,
      );
      const entry: WrittenImage = { address: file.address, size: image.length, wireBytes };
      if (md5 !== undefined) entry.md5 = md5;
      written.push(entry);
    }
    if (written.some((w) => w.md5 !== undefined)) {
      throwIfAborted(opts.signal);
      opts.onVerify?.();
      await this.verifyImages(written);
    }
    return written;
  }

  /** Compares the chip's MD5 of every written region with the image's (stub: raw, ROM: ASCII). */
  async verifyImages(images: WrittenImage[]): Promise<void> {
    for (const img of images) {
      if (img.md5 === undefined) continue;
      let flashMd5 = await this.flashMd5sum(img.address, img.size);
      // esptool-js hex-encodes the ROM's 32 ASCII hex bytes a second time (FLASHING.md 1.5-b).
      if (!this.IS_STUB && flashMd5.length === 64) {
        flashMd5 = Buffer.from(flashMd5, 'hex').toString('latin1');
      }
      this.info(`Flash md5 at 0x${img.address.toString(16)}: ${flashMd5} (image ${img.md5})`);
      if (flashMd5 !== img.md5) {
        throw new FlashError(
          'verify_failed',
          `verification failed at 0x${img.address.toString(16)}: flash MD5 ${flashMd5} != image MD5 ${img.md5}`,
        );
      }
    }
  }

  private async writeCompressed(
    index: number,
    image: Uint8Array,
    address: number,
    opts: WriteImagesOptions,
  ): Promise<number> {
    const packed = deflateSync(image, { level: 9 });
    const blocks = await this.flashDeflBegin(image.length, packed.length, address);
    let inflated = 0;
    const counter = new Unzlib((chunk) => {
      inflated += chunk.length;
    });
    opts.onProgress?.(index, 0, image.length);
    // Timeout rules as in esptool-js writeFlash: the stub ACKs a block on receipt and writes it
    // while the next one arrives, so each block waits as long as the previous block's write.
    let timeout = 5000;
    for (let seq = 0; seq < blocks; seq++) {
      throwIfAborted(opts.signal);
      const block = packed.subarray(seq * this.FLASH_WRITE_SIZE, (seq + 1) * this.FLASH_WRITE_SIZE);
      const before = inflated;
      const count = (): number => {
        counter.push(block, seq === blocks - 1);
        return this.timeoutPerMb(this.ERASE_WRITE_TIMEOUT_PER_MB, inflated - before);
      };
      if (this.IS_STUB) {
        // This block waits with the previous block's timeout, so its own byte count is only
        // needed afterwards: count it while the block is on the wire, not between ACK and send.
        const sending = this.flashDeflBlock(block, seq, timeout);
        sending.catch(() => {}); // awaited below; avoids an "unhandled" report meanwhile
        await new Promise((resolve) => setImmediate(resolve));
        timeout = count();
        await sending;
      } else {
        // The ROM writes before it ACKs, so the block's own size sets its timeout.
        timeout = count();
        await this.flashDeflBlock(block, seq, timeout);
      }
      opts.onProgress?.(index, Math.min(inflated, image.length), image.length);
    }
    // The ROM never gets *_END here (it would leave the loader); esptool-js does the same.
    if (this.IS_STUB) await this.flashDeflFinish(false, timeout);
    return packed.length;
  }

  private async writePlain(
    index: number,
    image: Uint8Array,
    address: number,
    opts: WriteImagesOptions,
  ): Promise<number> {
    const size = this.FLASH_WRITE_SIZE;
    const blocks = await this.flashBegin(image.length, address);
    opts.onProgress?.(index, 0, image.length);
    let timeout = 5000;
    for (let seq = 0; seq < blocks; seq++) {
      throwIfAborted(opts.signal);
      // The last block is padded with 0xFF to the block size, as esptool does.
      const block = new Uint8Array(size).fill(0xff);
      block.set(image.subarray(seq * size, (seq + 1) * size));
      const blockTimeout = Math.max(3000, this.timeoutPerMb(this.ERASE_WRITE_TIMEOUT_PER_MB, size));
      if (!this.IS_STUB) timeout = blockTimeout;
      await this.flashBlock(block, seq, timeout);
      if (this.IS_STUB) timeout = blockTimeout;
      opts.onProgress?.(index, Math.min((seq + 1) * size, image.length), image.length);
    }
    if (this.IS_STUB) await this.flashFinish(false, timeout);
    return blocks * size;
  }
}
