/**
 * Unpacks untrusted zip archives (fw.zip bundles from users, OTA uploads, flasher inputs) without
 * believing anything they say about themselves (issue 7 item 9: entries that lied about their
 * size inflated to 1 GB and blocked the event loop for 18 s):
 *
 * - inflated bytes are capped WHILE inflating, per entry and per archive (zlib `maxOutputLength`
 *   stops the inflater as soon as its output passes the cap); declared sizes are never used to
 *   allocate, and an entry whose real size differs from its declared one is refused afterwards;
 * - every entry's CRC-32 is checked;
 * - hostile names (`..`, absolute paths, drive letters, backslashes, NUL) refuse the whole archive,
 *   so nothing downstream ever sees a path that climbs out of its folder;
 * - `unzipSafe` inflates on libuv's thread pool (node:zlib's asynchronous API) and checks CRCs in
 *   slices between which the event loop runs, so a big-but-allowed archive does not stall the hub.
 *   `unzipSafeSync` is for places that are already off the hub's event loop (the flash worker
 *   process) or bounded small; its cost is bounded by the caps.
 *
 * node:zlib rather than fflate here: it runs off the event loop without spawning a worker per call
 * and has the output cap built in. Errors are `HubError`s: `image_invalid` (damaged, hostile,
 * CRC), `zip_bomb` (inflates past a cap), with `details.reason` for callers that re-code them.
 */
import { crc32, createInflateRaw, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { HubError } from '../../shared/errors';
import { DEFAULT_FIRMWARE, type FirmwareLimits } from '../config';
import type { FileHandle } from 'node:fs/promises';
import {
  checkEntryCount,
  entryDataOffset,
  EOCD_SEARCH_BYTES,
  LOCAL_HEADER_SIZE,
  locateCentralDirectory,
  parseCentralDirectory,
  readZipDirectory,
  type ZipEntry,
} from './zip-directory';

export interface ZipLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
}

export function zipLimitsOf(f: FirmwareLimits): ZipLimits {
  return {
    maxEntries: f.maxZipEntries,
    maxEntryBytes: f.maxZipEntryBytes,
    maxTotalBytes: f.maxZipTotalBytes,
  };
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = zipLimitsOf(DEFAULT_FIRMWARE);

/** `details.reason` of a refusal (`too_many_entries` comes from zip-directory.ts). */
export type ZipRefusal =
  'unsafe_name' | 'damaged' | 'crc' | 'size_mismatch' | 'bomb' | 'too_many_entries';

export interface UnzipOptions {
  limits?: ZipLimits;
  /** Which file entries to inflate (every name is still checked). Default: all. */
  filter?: (entry: ZipEntry) => boolean;
}

/** CRC work per slice in the async path: ~1 ms of event-loop time each. */
const CRC_SLICE_BYTES = 4 * 1024 * 1024;

/** A relative path that stays inside its archive: no `..`, no root, no drive, no backslashes. */
export function isSafeEntryName(name: string): boolean {
  if (name.length === 0 || name.length > 512) return false;
  if (name.includes('\\') || name.includes('\0')) return false;
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return false;
  return name.split('/').every((seg) => seg !== '..');
}

function refuse(reason: ZipRefusal, message: string): HubError {
  return new HubError(reason === 'bomb' ? 'zip_bomb' : 'image_invalid', message, { reason });
}

/** Throws for the first unsafe name: a hostile archive is refused whole. */
export function checkEntryNames(entries: readonly ZipEntry[]): void {
  for (const e of entries) {
    if (!isSafeEntryName(e.name)) {
      throw refuse('unsafe_name', `contains an unsafe entry name "${e.name.slice(0, 200)}"`);
    }
  }
}

/** Bytes this entry may inflate to, given what the archive already produced. */
function capFor(limits: ZipLimits, total: number): number {
  return Math.max(0, Math.min(limits.maxEntryBytes, limits.maxTotalBytes - total));
}

function bombMessage(entry: ZipEntry, cap: number, limits: ZipLimits): string {
  const which =
    cap === limits.maxEntryBytes
      ? `the ${limits.maxEntryBytes}-byte limit per entry`
      : `the archive's ${limits.maxTotalBytes}-byte total limit`;
  return `${entry.name} inflates beyond ${which} (it claims ${entry.declaredSize} bytes)`;
}

function inflateError(err: unknown, entry: ZipEntry, cap: number, limits: ZipLimits): HubError {
  if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
    return refuse('bomb', bombMessage(entry, cap, limits));
  }
  return refuse('damaged', `${entry.name} is damaged: ${(err as Error).message}`);
}

/** Size and CRC checks once an entry is inflated (sizes are only compared, never trusted). */
function checkInflated(entry: ZipEntry, out: Uint8Array, cap: number, limits: ZipLimits): void {
  if (out.length > cap) throw refuse('bomb', bombMessage(entry, cap, limits));
  if (out.length !== entry.declaredSize) throw sizeMismatch(entry, out.length);
}

function sizeMismatch(entry: ZipEntry, actual: number): HubError {
  return refuse(
    'size_mismatch',
    `${entry.name} inflates to ${actual} bytes but its header claims ${entry.declaredSize}`,
  );
}

function crcMismatch(entry: ZipEntry, actual: number): HubError {
  return refuse(
    'crc',
    `${entry.name} is corrupted: CRC-32 ${hex8(actual)} does not match the archive's ${hex8(entry.crc32)}`,
  );
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function compressedOf(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  const header = bytes.subarray(
    entry.localHeaderOffset,
    entry.localHeaderOffset + LOCAL_HEADER_SIZE,
  );
  const start = entryDataOffset(header, entry, bytes.length);
  return bytes.subarray(start, start + entry.compressedSize);
}

function selected(
  bytes: Uint8Array,
  opts: UnzipOptions,
): { entries: ZipEntry[]; limits: ZipLimits } {
  const limits = opts.limits ?? DEFAULT_ZIP_LIMITS;
  const all = readZipDirectory(bytes, limits.maxEntries);
  checkEntryNames(all);
  const filter = opts.filter ?? (() => true);
  return { entries: all.filter((e) => !e.isDirectory && filter(e)), limits };
}

function zlibOpts(cap: number): ZlibOptions {
  // maxOutputLength must be >= 1; a 0 cap is enforced by checkInflated.
  return { maxOutputLength: Math.max(1, cap) };
}

/** Synchronous unpack; blocks for at most the inflation the caps allow. */
export function unzipSafeSync(bytes: Uint8Array, opts: UnzipOptions = {}): Map<string, Uint8Array> {
  const { entries, limits } = selected(bytes, opts);
  const out = new Map<string, Uint8Array>();
  let total = 0;
  for (const entry of entries) {
    const cap = capFor(limits, total);
    const raw = compressedOf(bytes, entry);
    let data: Uint8Array;
    if (entry.method === 0) {
      data = raw;
    } else {
      try {
        data = inflateRawSync(raw, zlibOpts(cap));
      } catch (err) {
        throw inflateError(err, entry, cap, limits);
      }
    }
    checkInflated(entry, data, cap, limits);
    const actual = crc32(data);
    if (actual !== entry.crc32) throw crcMismatch(entry, actual);
    total += data.length;
    out.set(entry.name, data);
  }
  return out;
}

/** Inflated bytes handed back per event-loop turn by the async path (~0.3 ms to copy each). */
const INFLATE_CHUNK_BYTES = 1024 * 1024;

/**
 * Inflates on the thread pool, copying each chunk into one buffer as it comes. zlib's one-shot
 * `inflateRaw` joins all chunks at the end in one copy on the event loop (tens of ms for 30 MB);
 * here no turn copies more than a chunk. The buffer is sized from the declared size, which is
 * only a hint: more output than declared is still counted (up to the cap) and then refused.
 */
function inflateEntry(
  raw: Uint8Array,
  entry: ZipEntry,
  cap: number,
  limits: ZipLimits,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const z = createInflateRaw({ chunkSize: INFLATE_CHUNK_BYTES });
    const out = Buffer.allocUnsafe(Math.max(0, Math.min(entry.declaredSize, cap)));
    let n = 0;
    let failed = false;
    const fail = (err: HubError): void => {
      failed = true;
      z.destroy();
      reject(err);
    };
    z.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (n + chunk.length > cap) return fail(refuse('bomb', bombMessage(entry, cap, limits)));
      if (n + chunk.length <= out.length) chunk.copy(out, n);
      n += chunk.length;
    });
    z.on('error', (err) => {
      if (!failed) fail(inflateError(err, entry, cap, limits));
    });
    z.on('end', () => {
      if (failed) return;
      if (n !== out.length) return fail(sizeMismatch(entry, n));
      resolve(out);
    });
    z.end(raw);
  });
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function crc32Sliced(data: Uint8Array): Promise<number> {
  let crc = 0;
  for (let off = 0; off < data.length; off += CRC_SLICE_BYTES) {
    crc = crc32(data.subarray(off, off + CRC_SLICE_BYTES), crc);
    if (off + CRC_SLICE_BYTES < data.length) await nextTurn();
  }
  return crc;
}

/** Random access to an archive: bytes in memory or a file on disk (read piece by piece). */
export interface ZipSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bytesSource(bytes: Uint8Array): ZipSource {
  return {
    size: bytes.length,
    read: (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)),
  };
}

/** Reads only the end record, the central directory and the chosen entries of an open file. */
export function fileSource(handle: FileHandle, size: number): ZipSource {
  return {
    size,
    async read(offset, length) {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    },
  };
}

/**
 * The archive's entries, read once (end record, then the central directory) and bounded by
 * `limits.maxEntries`. Names are not judged here: `checkEntryNames` does that.
 */
export async function directoryOf(src: ZipSource, limits: ZipLimits): Promise<ZipEntry[]> {
  const tailLength = Math.min(src.size, EOCD_SEARCH_BYTES);
  const tail = await src.read(src.size - tailLength, tailLength);
  const loc = locateCentralDirectory(tail, src.size);
  checkEntryCount(loc, limits.maxEntries);
  const cd = await src.read(loc.offset, loc.size);
  return parseCentralDirectory(cd, loc, src.size, limits.maxEntries);
}

/**
 * One entry of a directory read by `directoryOf`, inflated on the thread pool, capped and
 * CRC-checked. `total`: what the archive already produced (for the per-archive cap).
 */
export async function readEntry(
  src: ZipSource,
  entry: ZipEntry,
  limits: ZipLimits,
  total = 0,
): Promise<Uint8Array> {
  const cap = capFor(limits, total);
  const header = await src.read(entry.localHeaderOffset, LOCAL_HEADER_SIZE);
  const start = entryDataOffset(header, entry, src.size);
  const raw = await src.read(start, entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else {
    try {
      data = await inflateEntry(raw, entry, cap, limits);
    } catch (err) {
      throw err instanceof HubError ? err : inflateError(err, entry, cap, limits);
    }
  }
  checkInflated(entry, data, cap, limits);
  const actual = await crc32Sliced(data);
  if (actual !== entry.crc32) throw crcMismatch(entry, actual);
  return data;
}

/**
 * Unpacks with inflation on the thread pool; the event loop keeps serving meanwhile. Takes the
 * archive's bytes or a `ZipSource` (then only the directory and the chosen entries are read).
 */
export async function unzipSafe(
  archive: Uint8Array | ZipSource,
  opts: UnzipOptions = {},
): Promise<Map<string, Uint8Array>> {
  const src = archive instanceof Uint8Array ? bytesSource(archive) : archive;
  const limits = opts.limits ?? DEFAULT_ZIP_LIMITS;
  const all = await directoryOf(src, limits);
  checkEntryNames(all);
  const filter = opts.filter ?? (() => true);
  const out = new Map<string, Uint8Array>();
  let total = 0;
  for (const entry of all) {
    if (entry.isDirectory || !filter(entry)) continue;
    const data = await readEntry(src, entry, limits, total);
    total += data.length;
    out.set(entry.name, data);
  }
  return out;
}
