/**
 * Reads a zip archive's table of contents (pure: bytes in, entries out). Layouts follow PKWARE's
 * APPNOTE.TXT 6.3 ("4.3.16 end of central directory record", "4.3.12 central directory file
 * header", "4.3.7 local file header"):
 *
 *   EOCD (22 bytes + comment): sig 0x06054b50, disk u16, cd disk u16, entries on disk u16 @8,
 *        entries u16 @10, cd size u32 @12, cd offset u32 @16, comment length u16 @20
 *   CD header (46 bytes + name + extra + comment): sig 0x02014b50, version made by u16 @4 (high
 *        byte: host system, 3 = Unix), flags u16 @8, method u16 @10, crc32 u32 @16, compressed u32 @20, uncompressed u32 @24, name len u16 @28,
 *        extra len u16 @30, comment len u16 @32, external attributes u32 @38 (Unix: mode << 16),
 *        local header offset u32 @42, name @46
 *   Local header (30 bytes + name + extra): sig 0x04034b50, name len u16 @26, extra len u16 @28
 *
 * Everything here comes from a stranger, so every offset is bounds-checked and the sizes are
 * kept only as claims: safe-unzip.ts never allocates by them and checks them after inflating.
 * The central directory is authoritative (local headers may carry zeros with a data descriptor).
 * Problems throw `HubError('image_invalid')`.
 */
import { HubError } from '../../shared/errors';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated; nothing else is accepted. */
  method: 0 | 8;
  crc32: number;
  compressedSize: number;
  /** What the archive CLAIMS the entry inflates to (never trusted for allocation). */
  declaredSize: number;
  localHeaderOffset: number;
  isDirectory: boolean;
  /** The host system that made the entry (high byte of "version made by"; 3 = Unix). */
  madeBy: number;
  /** The Unix mode (type and permission bits) when `madeBy` is Unix, else 0. */
  unixMode: number;
}

const HOST_UNIX = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** A Unix symbolic link entry: its data is the link's target, never a file's contents. */
export function isSymlink(e: ZipEntry): boolean {
  return e.madeBy === HOST_UNIX && (e.unixMode & S_IFMT) === S_IFLNK;
}

export interface CentralDirectoryLocation {
  offset: number;
  size: number;
  count: number;
}

const EOCD_SIG = 0x06054b50;
const CD_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
export const EOCD_SIZE = 22;
const CD_HEADER_SIZE = 46;
export const LOCAL_HEADER_SIZE = 30;
/** The EOCD is followed by a comment of at most 65535 bytes: look no further back than this. */
export const EOCD_SEARCH_BYTES = EOCD_SIZE + 0xffff;
const MAX_NAME_BYTES = 1024;

function bad(why: string): HubError {
  return new HubError('image_invalid', `not a readable zip archive: ${why}`);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** True when the bytes start like a zip (a local file header, or an empty archive's EOCD). */
export function looksLikeZip(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const sig = view(head).getUint32(0, true);
  return sig === LOCAL_SIG || sig === EOCD_SIG;
}

/**
 * Finds the central directory from the last bytes of the archive (`tail` ends at `fileSize`).
 * Zip64 archives are refused: no firmware bundle needs 4 GB or 65535 entries.
 */
export function locateCentralDirectory(
  tail: Uint8Array,
  fileSize: number,
): CentralDirectoryLocation {
  const dv = view(tail);
  const tailStart = fileSize - tail.length;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (dv.getUint32(i, true) !== EOCD_SIG) continue;
    const commentLength = dv.getUint16(i + 20, true);
    if (i + EOCD_SIZE + commentLength !== tail.length) continue; // a signature inside the comment
    const count = dv.getUint16(i + 10, true);
    const size = dv.getUint32(i + 12, true);
    const offset = dv.getUint32(i + 16, true);
    if (dv.getUint16(i + 4, true) !== 0 || dv.getUint16(i + 8, true) !== count) {
      throw bad('multi-disk archives are not supported');
    }
    if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
      throw bad('zip64 archives are not supported');
    }
    if (offset + size > tailStart + i) throw bad('the central directory runs past its end record');
    return { offset, size, count };
  }
  throw bad('no end-of-central-directory record (truncated or not a zip)');
}

/** Refuses an archive with too many entries before its directory is even read. */
export function checkEntryCount(loc: CentralDirectoryLocation, maxEntries: number): void {
  if (loc.count > maxEntries) {
    throw new HubError(
      'image_invalid',
      `the archive has ${loc.count} entries, more than the ${maxEntries} allowed`,
      { reason: 'too_many_entries' },
    );
  }
}

/**
 * Parses the central directory bytes into entries. `fileSize` bounds every entry's data;
 * `maxEntries` is checked before anything else so a hostile count costs nothing.
 */
export function parseCentralDirectory(
  cd: Uint8Array,
  loc: CentralDirectoryLocation,
  fileSize: number,
  maxEntries: number,
): ZipEntry[] {
  checkEntryCount(loc, maxEntries);
  if (cd.length !== loc.size) throw bad('central directory is truncated');
  const dv = view(cd);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let p = 0;
  for (let n = 0; n < loc.count; n++) {
    if (p + CD_HEADER_SIZE > cd.length || dv.getUint32(p, true) !== CD_SIG) {
      throw bad(`central directory entry ${n} is damaged`);
    }
    const madeBy = dv.getUint16(p + 4, true) >> 8;
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc32 = dv.getUint32(p + 16, true);
    const compressedSize = dv.getUint32(p + 20, true);
    const declaredSize = dv.getUint32(p + 24, true);
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    const externalAttributes = dv.getUint32(p + 38, true);
    const localHeaderOffset = dv.getUint32(p + 42, true);
    const end = p + CD_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (end > cd.length) throw bad(`central directory entry ${n} runs past the directory`);
    if (nameLength === 0 || nameLength > MAX_NAME_BYTES) {
      throw bad(`entry ${n} has a name of ${nameLength} bytes`);
    }
    const name = decoder.decode(cd.subarray(p + CD_HEADER_SIZE, p + CD_HEADER_SIZE + nameLength));
    p = end;
    if ((flags & 0x1) !== 0) throw bad(`${name} is encrypted`);
    if (method !== 0 && method !== 8) {
      throw bad(`${name} uses compression method ${method} (only stored and deflate are read)`);
    }
    if (compressedSize === 0xffffffff || declaredSize === 0xffffffff) {
      throw bad('zip64 entries are not supported');
    }
    if (localHeaderOffset + LOCAL_HEADER_SIZE + compressedSize > fileSize) {
      throw bad(`${name} claims data beyond the end of the archive`);
    }
    // Two entries with one name would let a checker read one and an installer the other.
    if (names.has(name)) throw bad(`${name} appears twice`);
    names.add(name);
    entries.push({
      name,
      method,
      crc32,
      compressedSize,
      declaredSize,
      localHeaderOffset,
      isDirectory: name.endsWith('/'),
      madeBy,
      unixMode: madeBy === HOST_UNIX ? externalAttributes >>> 16 : 0,
    });
  }
  return entries;
}

/** Where an entry's data starts, from its local header (30 bytes read at localHeaderOffset). */
export function entryDataOffset(
  localHeader: Uint8Array,
  entry: ZipEntry,
  fileSize: number,
): number {
  if (localHeader.length < LOCAL_HEADER_SIZE) throw bad(`${entry.name}: local header truncated`);
  const dv = view(localHeader);
  if (dv.getUint32(0, true) !== LOCAL_SIG) throw bad(`${entry.name}: local header is damaged`);
  const start =
    entry.localHeaderOffset + LOCAL_HEADER_SIZE + dv.getUint16(26, true) + dv.getUint16(28, true);
  if (start + entry.compressedSize > fileSize) {
    throw bad(`${entry.name}: data runs past the end of the archive`);
  }
  return start;
}

/** The entries of an archive held in memory. */
export function readZipDirectory(bytes: Uint8Array, maxEntries: number): ZipEntry[] {
  const tail = bytes.subarray(Math.max(0, bytes.length - EOCD_SEARCH_BYTES));
  const loc = locateCentralDirectory(tail, bytes.length);
  return parseCentralDirectory(
    bytes.subarray(loc.offset, loc.offset + loc.size),
    loc,
    bytes.length,
    maxEntries,
  );
}
