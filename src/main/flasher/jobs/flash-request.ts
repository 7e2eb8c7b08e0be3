/**
 * What a flash job is asked to do, as plain data that crosses the worker boundary unchanged
 * (FLASHING.md 0.3: flashing runs in its own process, so the request must be structured-cloneable).
 *
 * One options schema serves the REST `options` field, the raw JSON body and the CLI flags
 * (DESIGN.md example 4: the schema is the source of the type). `checkFlashRequest` runs every
 * check that does not need the board (option ranges, image formats, zip safety, alignment, entry
 * sequence syntax) so a bad request is refused with a coded 4xx before a port is leased.
 */
import Type from 'typebox';
import { HubError } from '../../../shared/errors';
import { FlashError } from '../../../shared/flash-state';
import { isValid, parseWith } from '../../validate';
import { ESP_CHIPS } from '../../firmware/esp-chips';
import { EspFlashOptions } from '../esp/esp-flash-options';
import { inspectImagesAsync } from '../esp/images';
import { FLASH_START } from '../stm32/device-table';
import { MAX_SEQUENCE_LENGTH, parseEntrySequence } from '../stm32/entry-sequence';
import { flattenImage, type Stm32Image } from '../stm32/firmware-image';
import { Stm32FlashRequestSchema, type Stm32FlashRequest } from '../stm32/stm32-flash-request';
import { WifiSchema } from '../provision/provision-common';
import { MAX_TEMPLATE_CHARS } from '../provision/template-provision';
import { toHubError } from './job-errors';

export type FlashKind = 'esp' | 'stm32';

export const CHIP_CHOICES = ['auto', ...ESP_CHIPS, 'stm32'] as const;
export type ChipChoice = (typeof CHIP_CHOICES)[number];

/** Most files one job takes (a bootloader, partitions, OTA data, app, a filesystem...). */
export const MAX_FILES_PER_JOB = 16;

const Address = Type.Integer({ minimum: 0, maximum: 0xffffffff });

/** Provisioning after a successful flash (issue: "the bench flow"); see provision-flow.ts. */
export const ProvisionSpecSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('mos'), Type.Literal('improv'), Type.Literal('template')]),
    wifi: Type.Optional(WifiSchema),
    template: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_TEMPLATE_CHARS })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    expect: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    expectLiteral: Type.Optional(Type.Boolean()),
    /** Console baud of the flashed firmware; default 115200. */
    baud: Type.Optional(Type.Integer({ minimum: 50, maximum: 12_000_000 })),
    /** How long to wait for the device to connect to the hub; default 60 s, 0 skips the wait. */
    onlineTimeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  },
  { additionalProperties: false },
);
export type ProvisionSpec = Type.Static<typeof ProvisionSpecSchema>;

export const Stm32OptionsSchema = Type.Object(
  {
    parity: Type.Optional(Type.Union([Type.Literal('even'), Type.Literal('none')])),
    /** false: stay in the bootloader; true/0: start at the flash start; else that address. */
    go: Type.Optional(Type.Union([Type.Boolean(), Address])),
    eraseMode: Type.Optional(Type.Union([Type.Literal('pages'), Type.Literal('mass')])),
    /** stm32flash `-i` syntax, e.g. '-dtr,rts,-rts:dtr' (entry-sequence.ts). */
    entrySequence: Type.Optional(Type.String({ maxLength: MAX_SEQUENCE_LENGTH })),
  },
  { additionalProperties: false },
);

/** Options shared by a single flash job and a bench run (everything but the port). */
export const FlashOptionProperties = {
  chip: Type.Optional(Type.Enum([...CHIP_CHOICES])),
  /** ESP: 9600..921600 (default 460800); STM32: 1200..3000000 (default 115200). */
  baud: Type.Optional(Type.Integer({ minimum: 1200, maximum: 3_000_000 })),
  eraseAll: Type.Optional(Type.Boolean()),
  verify: Type.Optional(Type.Boolean()),
  compress: Type.Optional(Type.Boolean()),
  reset: Type.Optional(Type.Enum(['hard', 'none'])),
  flashMode: Type.Optional(Type.String({ maxLength: 16 })),
  flashFreq: Type.Optional(Type.String({ maxLength: 16 })),
  flashSize: Type.Optional(Type.String({ maxLength: 16 })),
  stm32: Type.Optional(Stm32OptionsSchema),
  provision: Type.Optional(ProvisionSpecSchema),
};

export const PortSchema = Type.String({ minLength: 1, maxLength: 4096 });

/** The options of one flash job (REST `options` field, raw JSON body minus `images`, CLI flags). */
export const FlashOptionsSchema = Type.Object(
  { port: PortSchema, ...FlashOptionProperties },
  { additionalProperties: false },
);
export type FlashOptions = Type.Static<typeof FlashOptionsSchema>;

/** One firmware file as uploaded; `address` may also come from a `name@0x1000` file name. */
export interface FlashFile {
  name: string;
  data: Uint8Array;
  address?: number;
}

export type EspJobOptions = Omit<EspFlashOptions, 'path'>;
export type Stm32JobOptions = Omit<Stm32FlashRequest, 'path' | 'image'>;

/** Everything the worker needs; plain data (structured clone), the file bytes are transferred. */
export interface FlashRequest {
  kind: FlashKind;
  port: string;
  files: FlashFile[];
  esp: EspJobOptions;
  stm32: Stm32JobOptions;
}

/** "0x10000", "65536" -> number; anything else -> undefined. */
export function parseAddress(text: string): number | undefined {
  const t = text.trim();
  if (!/^(0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10})$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}

/**
 * "app.bin@0x10000" -> {name: "app.bin", address: 0x10000}. A suffix after the last "@" that is
 * not an address is part of the name (a file may be called "fw@v2.bin").
 */
export function splitAddressSuffix(spec: string): { name: string; address?: number } {
  const at = spec.lastIndexOf('@');
  if (at <= 0) return { name: spec };
  const address = parseAddress(spec.slice(at + 1));
  return address === undefined ? { name: spec } : { name: spec.slice(0, at), address };
}

/**
 * ESP or STM32. An explicit chip decides; on 'auto' an Intel HEX file or an address in the STM32
 * flash window (0x08000000, AN2606) means STM32, everything else is left to ESP chip detection.
 */
export function inferKind(chip: ChipChoice | undefined, files: readonly FlashFile[]): FlashKind {
  if (chip === 'stm32') return 'stm32';
  if (chip !== undefined && chip !== 'auto') return 'esp';
  const stm32Like = files.some(
    (f) =>
      /\.hex$/i.test(f.name) ||
      (f.address !== undefined && f.address >= FLASH_START && f.address < FLASH_START + 0x1000000),
  );
  return stm32Like ? 'stm32' : 'esp';
}

/** Builds the request from validated options and the files (pure). */
export function buildFlashRequest(options: FlashOptions, files: FlashFile[]): FlashRequest {
  const kind = inferKind(options.chip, files);
  const esp: EspJobOptions = {};
  const stm32: Stm32JobOptions = {};
  if (kind === 'esp') {
    if (options.chip !== undefined && options.chip !== 'stm32') esp.chip = options.chip;
    if (options.baud !== undefined) esp.baud = options.baud;
    if (options.eraseAll !== undefined) esp.eraseAll = options.eraseAll;
    if (options.verify !== undefined) esp.verify = options.verify;
    if (options.compress !== undefined) esp.compress = options.compress;
    if (options.reset !== undefined) esp.reset = options.reset;
    // Checked against the enums of EspFlashOptions in checkFlashRequest.
    const loose = esp as Record<string, unknown>;
    if (options.flashMode !== undefined) loose['flashMode'] = options.flashMode;
    if (options.flashFreq !== undefined) loose['flashFreq'] = options.flashFreq;
    if (options.flashSize !== undefined) loose['flashSize'] = options.flashSize;
  } else {
    if (options.baud !== undefined) stm32.baud = options.baud;
    if (options.verify !== undefined) stm32.verify = options.verify;
    if (options.eraseAll) stm32.eraseMode = 'mass';
    if (options.reset === 'none') stm32.go = false;
    Object.assign(stm32, options.stm32 ?? {});
  }
  return { kind, port: options.port, files, esp, stm32 };
}

/** The STM32 flasher takes one image: a .bin at an address (default flash start) or Intel HEX. */
export function toStm32Image(files: readonly FlashFile[]): Stm32Image {
  const only = files[0];
  if (!only || files.length !== 1) {
    throw new FlashError(
      'bad_image',
      `an STM32 job takes exactly one file (.bin or .hex), got ${files.length}`,
      'Merge the parts into one .hex file, or flash them one job at a time.',
    );
  }
  const looksHex =
    /\.hex$/i.test(only.name) || (only.data[0] === 0x3a && only.address === undefined);
  if (looksHex) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(only.data);
    } catch {
      throw new FlashError('bad_image', `${only.name} is not a text (Intel HEX) file`);
    }
    return { kind: 'hex', text };
  }
  return only.address === undefined
    ? { kind: 'bin', data: only.data }
    : { kind: 'bin', data: only.data, address: only.address };
}

/**
 * Every check that needs no board. Throws HubError: validation_failed (options), image_invalid,
 * image_too_large, chip_mismatch. Nothing is started and nothing is changed. Async because a
 * fw.zip is inflated on the thread pool (issue 7 item 9): up to the zip caps (64 MB) that would
 * otherwise stall the hub's event loop for a tenth of a second or more.
 */
export async function checkFlashRequest(req: FlashRequest): Promise<void> {
  checkFlashOptions(req);
  if (req.kind !== 'esp') return;
  try {
    await inspectImagesAsync({ kind: 'files', files: req.files });
  } catch (err) {
    throw toHubError(err);
  }
}

/**
 * The checks of checkFlashRequest that need no archive inflated (everything but the ESP image
 * inspection): quick, synchronous, and run again for each port a set of checked files goes to.
 */
export function checkFlashOptions(req: FlashRequest): void {
  try {
    if (req.files.length === 0) throw new HubError('validation_failed', 'no firmware file given');
    if (req.files.length > MAX_FILES_PER_JOB) {
      throw new HubError('validation_failed', `at most ${MAX_FILES_PER_JOB} files per job`);
    }
    for (const f of req.files) {
      if (typeof f.name !== 'string' || f.name === '' || !(f.data instanceof Uint8Array)) {
        throw new HubError('validation_failed', 'every file needs a name and bytes');
      }
      if (f.address !== undefined && !isValid(Address, f.address)) {
        throw new HubError('validation_failed', `${f.name}: address must be 0..0xffffffff`);
      }
    }
    if (req.kind === 'esp') {
      parseWith(EspFlashOptions, { ...req.esp, path: req.port });
    } else {
      const image = toStm32Image(req.files);
      parseWith(Stm32FlashRequestSchema, { ...req.stm32, path: req.port, image });
      if (req.stm32.entrySequence) parseEntrySequence(req.stm32.entrySequence);
      flattenImage(image, FLASH_START);
    }
  } catch (err) {
    throw toHubError(err);
  }
}
