/**
 * Turns what a user hands the flasher into `{address, data}` images (pure; no I/O).
 *
 * Accepted inputs, detected from names and content:
 * - one `.bin` with an address; without one, a merged image (bootloader + partition table at
 *   0x8000, as `esptool merge_bin` writes) goes to 0, anything else is an app at 0x10000;
 * - several `.bin`s, each with an address;
 * - an ESP Web Tools `manifest.json` plus the part files it names (the build is picked by the
 *   detected chip family);
 * - a Mongoose OS `fw.zip` (its `manifest.json` lists parts with `src` and `addr`), or that
 *   manifest unzipped with its parts alongside.
 *
 * Everything that comes from outside is checked before a byte is written: zip entry names (no
 * `..`, no absolute paths), sizes, missing parts, overlaps, sector alignment, the chip the image
 * was built for. Problems become `FlashError('bad_image' | 'wrong_chip' | 'image_too_large')`.
 */
import { createHash } from 'node:crypto';
import Type from 'typebox';
import { firstProblem } from '../../validate';
import { HubError } from '../../../shared/errors';
import { FlashError } from '../../../shared/flash-state';
import { bootloaderOffset, chipDisplayName, chipKey } from '../../firmware/esp-chips';
import { imageChip, ESP_IMAGE_MAGIC as IMAGE_MAGIC } from '../../firmware/esp-image';
import {
  checkMosManifest,
  manifestBase,
  manifestEntryName,
  type MosManifest,
} from '../../firmware/fw-zip';
import { isSafeEntryName, unzipSafe, unzipSafeSync } from '../../firmware/safe-unzip';
import { flashError, HINTS, wrongChipError } from './hints';

export interface EspInputFile {
  name: string;
  data: Uint8Array;
  address?: number;
}

export type EspImageInput = { kind: 'files'; files: EspInputFile[] };

export interface EspImage {
  /** File name (or manifest part path) for progress and messages. */
  name: string;
  address: number;
  data: Uint8Array;
}

export type EspImageSource =
  'bin' | 'merged-bin' | 'bins' | 'web-tools-manifest' | 'mos-zip' | 'mos-manifest';

export interface ResolvedImages {
  source: EspImageSource;
  /** Sorted by address, non-overlapping, 4 KiB aligned. */
  images: EspImage[];
  /** Things worth telling the user that did not stop the job (assumed addresses, skipped parts). */
  warnings: string[];
  firmware?: { name?: string; version?: string; buildId?: string; platform?: string };
}

/** Flash sector size: erase granularity, so every image must start on a sector (FLASHING.md 2.3). */
export const SECTOR = 0x1000;
export const APP_OFFSET = 0x10000;
export const PARTITION_TABLE_OFFSET = 0x8000;

const Offset = Type.Union([
  Type.Integer({ minimum: 0, maximum: 0xffffffff }),
  Type.String({ pattern: '^(0[xX][0-9a-fA-F]+|[0-9]+)$' }),
]);

const WebToolsManifest = Type.Object({
  name: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  builds: Type.Array(
    Type.Object({
      chipFamily: Type.String({ minLength: 1 }),
      parts: Type.Array(Type.Object({ path: Type.String({ minLength: 1 }), offset: Offset }), {
        minItems: 1,
      }),
    }),
    { minItems: 1 },
  ),
});
type WebToolsManifest = Type.Static<typeof WebToolsManifest>;

type Parsed =
  | { type: 'bins'; files: EspInputFile[] }
  | { type: 'web-tools'; manifest: WebToolsManifest; files: Map<string, EspInputFile> }
  | {
      type: 'mos';
      source: 'mos-zip' | 'mos-manifest';
      manifest: MosManifest;
      base: string;
      files: Map<string, Uint8Array>;
      /** SHA-1s (hex) already computed off the event loop, by part data. */
      sha1?: Map<Uint8Array, string>;
    };

function bad(message: string, hint?: string): FlashError {
  return flashError('bad_image', message, hint);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function parseOffset(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

function isZip(f: EspInputFile): boolean {
  return (
    /\.zip$/i.test(f.name) ||
    (f.data[0] === 0x50 && f.data[1] === 0x4b && f.data[2] === 0x03 && f.data[3] === 0x04)
  );
}

function parseJson(f: EspInputFile): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(f.data)) as unknown;
  } catch (err) {
    throw bad(`${f.name} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Unpacks a zip with the shared safe unzip (firmware/safe-unzip.ts: names checked, inflation
 * capped as it streams, sizes and CRC-32 verified). Synchronous: in the hub it runs for the
 * up-front check, bounded by the caps; the full resolve runs in the flash worker process.
 */
function readZip(f: EspInputFile): Map<string, Uint8Array> {
  try {
    return unzipSafeSync(f.data);
  } catch (err) {
    throw zipError(f, err);
  }
}

/** readZip with inflation on the thread pool: what the hub's up-front check uses. */
async function readZipAsync(f: EspInputFile): Promise<Map<string, Uint8Array>> {
  try {
    return await unzipSafe(f.data);
  } catch (err) {
    throw zipError(f, err);
  }
}

function zipError(f: EspInputFile, err: unknown): unknown {
  if (!(err instanceof HubError)) return err;
  const reason = (err.details as { reason?: string } | undefined)?.reason;
  return bad(
    `${f.name}: ${err.message}`,
    reason === 'unsafe_name' || reason === 'bomb' || reason === 'size_mismatch'
      ? 'The archive is malformed or hostile; do not use it.'
      : undefined,
  );
}

function parseMosManifest(value: unknown, what: string): MosManifest {
  try {
    return checkMosManifest(value, what);
  } catch (err) {
    if (err instanceof HubError) throw bad(err.message);
    throw err;
  }
}

function parseInput(input: EspImageInput, unzipped?: Map<string, Uint8Array>): Parsed {
  const files = input.files;
  if (!Array.isArray(files) || files.length === 0) throw bad('no firmware files were given');
  const names = new Set<string>();
  for (const f of files) {
    if (typeof f.name !== 'string' || !(f.data instanceof Uint8Array)) {
      throw bad('every firmware file needs a name and its bytes');
    }
    if (names.has(f.name)) throw bad(`file ${f.name} was given twice`);
    names.add(f.name);
  }

  const zips = files.filter(isZip);
  if (zips.length > 0) {
    const zip = zips[0];
    if (zips.length > 1 || files.length > 1 || !zip) {
      throw bad('a firmware zip must be the only file given');
    }
    const entries = unzipped ?? readZip(zip);
    const manifestName = manifestEntryName(entries.keys());
    const manifestData = manifestName ? entries.get(manifestName) : undefined;
    if (!manifestName || !manifestData) {
      throw bad(
        `${zip.name} has no manifest.json`,
        'Expected a Mongoose OS fw.zip (mos build output).',
      );
    }
    const manifest = parseMosManifest(
      parseJson({ name: manifestName, data: manifestData }),
      `${zip.name}:${manifestName}`,
    );
    const base = manifestBase(manifestName);
    return { type: 'mos', source: 'mos-zip', manifest, base, files: entries };
  }

  const jsons = files.filter((f) => /\.json$/i.test(f.name));
  if (jsons.length > 1) throw bad('give one manifest (.json) at a time');
  const json = jsons[0];
  if (json) {
    const value = parseJson(json);
    const rest = files.filter((f) => f !== json);
    if (value && typeof value === 'object' && 'builds' in value) {
      const problem = firstProblem(WebToolsManifest, value);
      if (problem) throw bad(`${json.name} is not an ESP Web Tools manifest: ${problem}`);
      return {
        type: 'web-tools',
        manifest: value as WebToolsManifest,
        files: new Map(rest.map((f) => [f.name, f])),
      };
    }
    if (value && typeof value === 'object' && 'parts' in value) {
      const manifest = parseMosManifest(value, json.name);
      return {
        type: 'mos',
        source: 'mos-manifest',
        manifest,
        base: '',
        files: new Map(rest.map((f) => [f.name, f.data])),
      };
    }
    throw bad(`${json.name} is neither an ESP Web Tools nor a Mongoose OS manifest`);
  }
  return { type: 'bins', files };
}

function looksMerged(data: Uint8Array): number | undefined {
  // merge_bin output starts at flash offset 0; the bootloader sits at the chip's offset (0 or
  // 0x1000/0x2000, padding before it is 0xFF) and the partition table at 0x8000 starts AA 50.
  if (data.length < PARTITION_TABLE_OFFSET + 2) return undefined;
  if (data[PARTITION_TABLE_OFFSET] !== 0xaa || data[PARTITION_TABLE_OFFSET + 1] !== 0x50)
    return undefined;
  for (const off of [0x0, 0x1000, 0x2000]) {
    if (data[off] === IMAGE_MAGIC && data.subarray(0, off).every((b) => b === 0xff)) return off;
  }
  return undefined;
}

function checkBuiltFor(img: EspImage, chip: string, innerOffset = 0): void {
  const builtFor = imageChip(img.data.subarray(innerOffset));
  if (builtFor && chipKey(builtFor) !== chipKey(chip)) {
    throw wrongChipError(chipDisplayName(chip), chipDisplayName(builtFor), img.name);
  }
}

function finish(
  source: EspImageSource,
  images: EspImage[],
  warnings: string[],
  chip: string | null,
  firmware?: ResolvedImages['firmware'],
): ResolvedImages {
  if (images.length === 0) throw bad('there is nothing to flash');
  for (const img of images) {
    if (!Number.isInteger(img.address) || img.address < 0 || img.address > 0xffffffff) {
      throw bad(`${img.name}: flash address ${String(img.address)} is not valid`);
    }
    if (img.address % SECTOR !== 0) {
      throw bad(
        `${img.name}: flash address ${hex(img.address)} is not a multiple of ${hex(SECTOR)} (one flash sector)`,
        'Flash is erased in 4 KiB sectors, so an image must start on a sector boundary; check the address.',
      );
    }
    if (img.data.length === 0) throw bad(`${img.name} is empty`);
  }
  const sorted = [...images].sort((a, b) => a.address - b.address);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (prev && cur && prev.address + prev.data.length > cur.address) {
      throw bad(
        `${prev.name} (${hex(prev.address)}..${hex(prev.address + prev.data.length)}) overlaps ${cur.name} at ${hex(cur.address)}`,
      );
    }
  }
  if (chip) {
    const blOffset = bootloaderOffset(chip);
    for (const img of sorted) {
      if (source === 'merged-bin') {
        const inner = looksMerged(img.data);
        if (inner !== undefined && blOffset !== undefined && inner !== blOffset) {
          throw flashError(
            'wrong_chip',
            `${img.name} is a merged image with its bootloader at ${hex(inner)}, but ${chipDisplayName(chip)} boots from ${hex(blOffset)}`,
            `${HINTS.wrong_chip} Detected: ${chipDisplayName(chip)}.`,
          );
        }
        if (inner !== undefined) checkBuiltFor(img, chip, inner);
      } else {
        checkBuiltFor(img, chip);
      }
    }
  }
  const result: ResolvedImages = { source, images: sorted, warnings };
  if (firmware) result.firmware = firmware;
  return result;
}

function resolveBins(files: EspInputFile[], chip: string | null): ResolvedImages {
  const warnings: string[] = [];
  const only = files[0];
  if (files.length === 1 && only && only.address === undefined) {
    const inner = looksMerged(only.data);
    if (inner !== undefined) {
      return finish(
        'merged-bin',
        [{ name: only.name, address: 0, data: only.data }],
        warnings,
        chip,
      );
    }
    warnings.push(`${only.name} has no address: flashing it as the app at ${hex(APP_OFFSET)}`);
    return finish(
      'bin',
      [{ name: only.name, address: APP_OFFSET, data: only.data }],
      warnings,
      chip,
    );
  }
  const missing = files.filter((f) => f.address === undefined).map((f) => f.name);
  if (missing.length > 0) {
    throw bad(
      `when several files are given each needs a flash address (missing: ${missing.join(', ')})`,
    );
  }
  const images = files.map((f) => ({ name: f.name, address: f.address ?? 0, data: f.data }));
  return finish(files.length === 1 ? 'bin' : 'bins', images, warnings, chip);
}

function findPart(files: Map<string, EspInputFile>, path: string): EspInputFile {
  const exact = files.get(path) ?? files.get(path.replace(/^\.\//, ''));
  if (exact) return exact;
  const base = path.split(/[/\\]/).pop() ?? path;
  const matches = [...files.values()].filter(
    (f) => (f.name.split(/[/\\]/).pop() ?? f.name) === base,
  );
  if (matches.length > 1) throw bad(`manifest part ${path} matches several given files`);
  const match = matches[0];
  if (!match) {
    throw bad(
      `manifest part ${path} was not given`,
      'Add every file the manifest lists alongside manifest.json.',
    );
  }
  return match;
}

function webToolsImages(
  build: WebToolsManifest['builds'][number],
  files: Map<string, EspInputFile>,
): EspImage[] {
  return build.parts.map((part) => {
    const f = findPart(files, part.path);
    return { name: f.name, address: parseOffset(part.offset), data: f.data };
  });
}

function resolveWebTools(
  manifest: WebToolsManifest,
  files: Map<string, EspInputFile>,
  chip: string | null,
): ResolvedImages {
  const firmware: ResolvedImages['firmware'] = {};
  if (manifest.name !== undefined) firmware.name = manifest.name;
  if (manifest.version !== undefined) firmware.version = manifest.version;
  if (chip === null) {
    // Without a chip: fail before the port is opened unless at least one build is complete
    // (people often add only the files for their board; the rest is checked once it is known).
    let firstError: unknown = null;
    for (const build of manifest.builds) {
      try {
        return finish('web-tools-manifest', webToolsImages(build, files), [], null, firmware);
      } catch (err) {
        firstError ??= err;
      }
    }
    throw firstError ?? bad('the manifest has no builds');
  }
  const build = manifest.builds.find((b) => chipKey(b.chipFamily) === chipKey(chip));
  if (!build) {
    const families = manifest.builds.map((b) => b.chipFamily).join(', ');
    throw flashError(
      'wrong_chip',
      `${manifest.name ?? 'the manifest'} has no build for ${chipDisplayName(chip)} (it has: ${families})`,
      `${HINTS.wrong_chip} Detected: ${chipDisplayName(chip)}.`,
    );
  }
  const warnings = [...files.keys()]
    .filter((n) => !build.parts.some((p) => findPartName(files, p.path) === n))
    .map((n) => `${n} is not used by the ${build.chipFamily} build`);
  return finish('web-tools-manifest', webToolsImages(build, files), warnings, chip, firmware);
}

function findPartName(files: Map<string, EspInputFile>, path: string): string | undefined {
  try {
    return findPart(files, path).name;
  } catch {
    return undefined;
  }
}

function resolveMos(parsed: Extract<Parsed, { type: 'mos' }>, chip: string | null): ResolvedImages {
  const { manifest, base, files } = parsed;
  const firmware: ResolvedImages['firmware'] = { platform: manifest.platform };
  if (manifest.name !== undefined) firmware.name = manifest.name;
  if (manifest.version !== undefined) firmware.version = manifest.version;
  if (manifest.build_id !== undefined) firmware.buildId = manifest.build_id;
  if (chip !== null && chipKey(manifest.platform) !== chipKey(chip)) {
    throw wrongChipError(
      chipDisplayName(chip),
      chipDisplayName(manifest.platform),
      `${manifest.name ?? 'the firmware'}`,
    );
  }
  const warnings: string[] = [];
  const images: EspImage[] = [];
  for (const [partName, part] of Object.entries(manifest.parts)) {
    if (part.addr === undefined) {
      warnings.push(`part ${partName} has no addr and is not flashed`);
      continue;
    }
    const address = parseOffset(part.addr);
    let data: Uint8Array;
    if (part.src !== undefined) {
      if (!isSafeEntryName(part.src)) throw bad(`part ${partName} has an unsafe src "${part.src}"`);
      const found = files.get(base + part.src) ?? files.get(part.src);
      if (!found) throw bad(`part ${partName}: ${part.src} is missing from the firmware`);
      if (part.cs_sha1 !== undefined) {
        const sha1 = parsed.sha1?.get(found) ?? createHash('sha1').update(found).digest('hex');
        if (sha1 !== part.cs_sha1.toLowerCase()) {
          throw bad(
            `part ${partName}: ${part.src} is corrupted (SHA-1 does not match the manifest)`,
          );
        }
      }
      data = found;
    } else if (part.fill !== undefined && part.size !== undefined) {
      data = new Uint8Array(part.size).fill(part.fill);
    } else {
      warnings.push(`part ${partName} has neither src nor fill and is not flashed`);
      continue;
    }
    images.push({ name: part.src ?? partName, address, data });
  }
  return finish(parsed.source, images, warnings, chip, firmware);
}

/**
 * Checks everything that does not depend on the chip (formats, archive safety, missing parts,
 * alignment, overlaps). Call it before opening the port so bad input fails fast.
 */
export function inspectImages(input: EspImageInput): void {
  resolveWith(parseInput(input), null);
}

/** SHA-1 bytes hashed per event-loop turn (~4 ms each). */
const HASH_SLICE_BYTES = 1024 * 1024;

async function sha1Sliced(data: Uint8Array): Promise<string> {
  const hash = createHash('sha1');
  for (let off = 0; off < data.length; off += HASH_SLICE_BYTES) {
    hash.update(data.subarray(off, off + HASH_SLICE_BYTES));
    await new Promise<void>((r) => setImmediate(r));
  }
  return hash.digest('hex');
}

/**
 * inspectImages for the hub's event loop: a zip is inflated on the thread pool first (up to the
 * zip caps, 64 MB, which would block the loop for a noticeable time), the rest is quick.
 */
export async function inspectImagesAsync(input: EspImageInput): Promise<void> {
  const only = Array.isArray(input.files) && input.files.length === 1 ? input.files[0] : undefined;
  const unzipped =
    only && only.data instanceof Uint8Array && isZip(only) ? await readZipAsync(only) : undefined;
  const parsed = parseInput(input, unzipped);
  if (parsed.type === 'mos') {
    // Checksums of tens of MB take as long as the inflation: hashed a slice per event-loop turn.
    parsed.sha1 = new Map();
    for (const part of Object.values(parsed.manifest.parts)) {
      if (part.src === undefined || part.cs_sha1 === undefined) continue;
      const data = parsed.files.get(parsed.base + part.src) ?? parsed.files.get(part.src);
      if (data === undefined || parsed.sha1.has(data)) continue;
      parsed.sha1.set(data, await sha1Sliced(data));
    }
  }
  resolveWith(parsed, null);
}

/** Picks and validates the images for the detected chip family (e.g. "ESP32-S3" or "esp32s3"). */
export function resolveImages(input: EspImageInput, chipFamily: string): ResolvedImages {
  return resolveWith(parseInput(input), chipFamily);
}

function resolveWith(parsed: Parsed, chip: string | null): ResolvedImages {
  switch (parsed.type) {
    case 'bins':
      return resolveBins(parsed.files, chip);
    case 'web-tools':
      return resolveWebTools(parsed.manifest, parsed.files, chip);
    case 'mos':
      return resolveMos(parsed, chip);
  }
}

/** "4MB" -> 4194304, "512KB" -> 524288; undefined for anything else. */
export function flashSizeBytes(size: string | undefined): number | undefined {
  const m = /^(\d+)(KB|MB)$/.exec(size ?? '');
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'MB' ? 1024 * 1024 : 1024);
}

/** Refuses images that end beyond the flash (FlashError 'image_too_large'). */
export function checkImagesFit(images: EspImage[], flashBytes: number, flashSize: string): void {
  for (const img of images) {
    const end = img.address + img.data.length;
    if (end > flashBytes) {
      throw flashError(
        'image_too_large',
        `${img.name} (${img.data.length} bytes at ${hex(img.address)}) ends at ${hex(end)}, beyond the ${flashSize} flash`,
      );
    }
  }
}
