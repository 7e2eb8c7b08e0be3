/**
 * Flashes an ESP chip over a serial port: the one function the flash worker calls for ESP jobs.
 *
 * Steps (FLASHING.md 0 and 2.4): open the port and sync with the ROM bootloader (FastEspLoader
 * `main()`: reset, SYNC, chip detection, on ESP32 the baud change before the stub upload, flash
 * ID; fast-loader.ts says why), pick and check the
 * images for the detected chip, optionally erase the chip, write every image, verify each one by
 * MD5, reset the board. Progress goes to `report` as typed `FlashState`s; failures are thrown as
 * `FlashError`s (the caller reports `failed`). The port is closed in `finally`, whatever happened.
 */
import { createHash } from 'node:crypto';
import type { FlashSizeValues } from 'esptool-js';
import { parseWith } from '../../validate';
import { FlashError, type ChipInfo, type FlashState } from '../../../shared/flash-state';
import { NodeWebSerialPort } from '../serial/node-web-serial';
import { chipDisplayName, chipKey } from '../../firmware/esp-chips';
import { EventTransport } from './event-transport';
import { FastEspLoader } from './fast-loader';
import { flashError, toFlashError, wrongChipError, type EspStage } from './hints';
import {
  checkImagesFit,
  flashSizeBytes,
  inspectImages,
  resolveImages,
  type EspImageInput,
} from './images';
import { DEFAULT_ESP_BAUD, DEFAULT_ROM_BAUD, EspFlashOptions } from './esp-flash-options';

/**
 * Hard reset after flashing: pulse RTS (EN low) for 100 ms. esptool-js's own `hard_reset` only
 * releases RTS and never asserts it (FLASHING.md 1.5-d, 8.2); `no_reset` would crash Node (1.5-a).
 */
export const HARD_RESET_SEQUENCE = 'R1|W100|R0';

export type EspFlashRequest = EspFlashOptions & {
  images: EspImageInput;
  /** esptool-js's terminal output and our own notes, one line at a time. */
  log?: (line: string) => void;
};

export interface EspFlashResult {
  chip: ChipInfo;
  /** Image bytes written (each image padded to 4 bytes). */
  bytesWritten: number;
  /** Payload bytes sent in data blocks (after compression). */
  wireBytes: number;
  durationMs: number;
  images: { address: number; size: number; md5: string }[];
  /** Where the time went: connect+stub, erase, write, verify. */
  timings: { connectMs: number; eraseMs: number; writeMs: number; verifyMs: number };
  warnings: string[];
}

function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

export async function flashEsp(
  req: EspFlashRequest,
  report: (s: FlashState) => void,
  signal?: AbortSignal,
): Promise<EspFlashResult> {
  const opts = parseWith(EspFlashOptions, req);
  const log = req.log ?? (() => {});
  // Bad files fail here, before the port is touched.
  inspectImages(req.images);
  if (signal?.aborted) throw new FlashError('cancelled', 'flashing was cancelled');

  const baud = opts.baud ?? DEFAULT_ESP_BAUD;
  const romBaud = opts.romBaud ?? DEFAULT_ROM_BAUD;
  const warnings: string[] = [];
  const warn = (msg: string): void => {
    warnings.push(msg);
    log(`Warning: ${msg}`);
  };
  const started = performance.now();
  const timings = { connectMs: 0, eraseMs: 0, writeMs: 0, verifyMs: 0 };

  let stage: EspStage = 'connect';
  const port = new NodeWebSerialPort(opts.path, { info: opts.usbInfo ?? {}, onWarning: warn });
  const transport = new EventTransport(port, log);
  const loader = new FastEspLoader(
    {
      transport,
      baudrate: baud,
      romBaudrate: romBaud,
      terminal: { clean: () => {}, writeLine: log, write: log },
    },
    {
      onConnectAttempt: (attempt) => {
        stage = 'connect';
        report({ state: 'connecting', attempt });
      },
      onStubUpload: () => {
        stage = 'stub';
        report({ state: 'uploading_stub' });
      },
      resetIsNoop: async () => !(await port.hasModemLines()),
      ...(signal !== undefined && { signal }),
    },
  );
  const onAbort = (): void => {
    // Wake any pending read and release the port now; the steps below then fail fast.
    transport.abort();
    void port.close().catch(() => {});
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    report({ state: 'detecting' });
    await loader.main(opts.before ?? 'default_reset');
    stage = 'stub';
    const chipName = loader.chip.CHIP_NAME;
    if (opts.chip && opts.chip !== 'auto' && chipKey(opts.chip) !== chipKey(chipName)) {
      throw wrongChipError(chipName, chipDisplayName(opts.chip), 'this job');
    }
    if (!loader.IS_STUB) {
      throw flashError(
        'protocol_error',
        `the flasher stub could not be started on ${chipName}; ROM-only flashing is not supported`,
        'Secure Download Mode or an unsupported chip revision keeps the stub from running.',
      );
    }
    const chip = await readChipInfo(loader);
    timings.connectMs = performance.now() - started;
    log(`Chip: ${chip.chip}, MAC ${chip.mac ?? '?'}, flash ${chip.flashSize ?? 'unknown'}`);

    const resolved = resolveImages(req.images, chipName);
    for (const w of resolved.warnings) warn(w);
    let flashSize = (opts.flashSize ?? 'keep') as FlashSizeValues;
    if (flashSize === 'detect') {
      if (!chip.flashSize) throw flashError('protocol_error', 'could not detect the flash size');
      flashSize = chip.flashSize as FlashSizeValues;
    }
    // An explicit size wins over the detected one (some modules report a wrong flash ID),
    // the same rule esptool-js applies in writeFlash.
    const boundName = flashSize !== 'keep' ? flashSize.replace(/-c1$/, '') : chip.flashSize;
    const boundBytes = flashSizeBytes(boundName);
    if (boundBytes !== undefined && boundName) {
      checkImagesFit(resolved.images, boundBytes, boundName);
    } else {
      warn('could not read the flash size, so images were not checked against it');
    }

    if (opts.eraseAll) {
      stage = 'write';
      report({ state: 'erasing' });
      const t = performance.now();
      await loader.eraseFlash();
      timings.eraseMs = performance.now() - t;
    }

    stage = 'write';
    const sizes = resolved.images.map((img) => Math.ceil(img.data.length / 4) * 4);
    const total = sizes.reduce((a, b) => a + b, 0);
    const files = resolved.images.length;
    let lastBytes = -1;
    const tWrite = performance.now();
    let tVerify = 0;
    const written = await loader.writeImages({
      images: resolved.images,
      compress: opts.compress ?? true,
      flashMode: opts.flashMode ?? 'keep',
      flashFreq: opts.flashFreq ?? 'keep',
      flashSize: flashSize as Exclude<FlashSizeValues, 'detect'>,
      // Always: an image the chip does not hold is a failed write, `verify: false` or not.
      calculateMD5Hash: md5Hex,
      onVerify: () => {
        stage = 'verify';
        report({ state: 'verifying' });
        tVerify = performance.now();
      },
      signal,
      onProgress: (index, done) => {
        const before = sizes.slice(0, index).reduce((a, b) => a + b, 0);
        const bytes = before + done;
        if (bytes === lastBytes) return;
        lastBytes = bytes;
        report({ state: 'writing', bytes, total, file: index, files });
      },
    });
    timings.writeMs = tVerify - tWrite;
    timings.verifyMs = performance.now() - tVerify;

    stage = 'reset';
    report({ state: 'resetting' });
    if ((opts.reset ?? 'hard') === 'hard') {
      await loader.after('custom_reset', undefined, HARD_RESET_SEQUENCE);
    } else {
      await loader.after('no_reset_stub');
    }

    const durationMs = Math.round(performance.now() - started);
    report({ state: 'done', durationMs, chip });
    return {
      chip,
      bytesWritten: written.reduce((a, w) => a + w.size, 0),
      wireBytes: written.reduce((a, w) => a + w.wireBytes, 0),
      durationMs,
      images: written.map((w) => ({ address: w.address, size: w.size, md5: w.md5 ?? '' })),
      timings: {
        connectMs: Math.round(timings.connectMs),
        eraseMs: Math.round(timings.eraseMs),
        writeMs: Math.round(timings.writeMs),
        verifyMs: Math.round(timings.verifyMs),
      },
      warnings,
    };
  } catch (err) {
    if (signal?.aborted) throw new FlashError('cancelled', 'flashing was cancelled');
    const fe = toFlashError(err, {
      stage: port.wasOpened ? stage : 'open',
      portLost: port.lost,
      lastConnectError: loader.lastConnectError,
      path: opts.path,
    });
    log(`Error (${fe.code}): ${fe.message} [${err instanceof Error ? err.message : String(err)}]`);
    throw fe;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    try {
      await transport.shutdown();
    } catch (err) {
      log(`closing ${opts.path} failed: ${(err as Error).message}`);
    }
  }
}

async function readChipInfo(loader: FastEspLoader): Promise<ChipInfo> {
  const rom = loader.chip;
  const description = await rom.getChipDescription(loader);
  const mac = await rom.readMac(loader);
  const flashId = loader.flashIdAtConnect ?? (await loader.readFlashId());
  const flashSize = loader.DETECTED_FLASH_SIZES[(flashId >> 16) & 0xff];
  const info: ChipInfo = {
    chip: rom.CHIP_NAME,
    mac: mac.toLowerCase(),
    details: {
      description,
      flashId: `0x${(flashId >>> 0).toString(16).padStart(6, '0')}`,
      flashManufacturer: `0x${(flashId & 0xff).toString(16).padStart(2, '0')}`,
    },
  };
  if (flashSize) info.flashSize = flashSize;
  return info;
}
