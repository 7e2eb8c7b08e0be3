/**
 * Pure frame codec for the STM32 system bootloader over USART (ST AN3155; FLASHING.md 4.1-4.2).
 * Values in, bytes out: no ports, no timers. The client (stm32-client.ts) does the I/O, and the
 * test simulator parses the same frames independently so the two can check each other.
 */

/** Reply bytes (FLASHING.md 4.1; stm32flash stm32.c:32-34). */
export const ACK = 0x79;
export const NACK = 0x1f;
/** Sent instead of ACK while an operation is still running on some parts; wait and read again. */
export const BUSY = 0x76;
/** The auto-baud / synchronisation byte. */
export const INIT = 0x7f;

/** Command codes (FLASHING.md 4.2; stm32flash stm32.c:36-56). */
export const CMD = {
  GET: 0x00,
  GET_VERSION: 0x01,
  GET_ID: 0x02,
  READ_MEMORY: 0x11,
  GO: 0x21,
  WRITE_MEMORY: 0x31,
  ERASE: 0x43,
  EXTENDED_ERASE: 0x44,
  WRITE_PROTECT: 0x63,
  WRITE_UNPROTECT: 0x73,
  READOUT_PROTECT: 0x82,
  READOUT_UNPROTECT: 0x92,
  GET_CHECKSUM: 0xa1,
} as const;

export type CommandName = keyof typeof CMD;

/** Largest Read Memory / Write Memory block (AN3155 3.4, 3.6). */
export const MAX_BLOCK = 256;
/** Largest page list for the one-byte-count Erase (0x43): N-1 = 0xFF is reserved for global. */
export const MAX_ERASE_PAGES = 255;
/** Largest page list per Extended Erase that stm32flash sends (FLASHING.md 4.3: chunks of <= 511). */
export const MAX_EXTENDED_ERASE_PAGES = 511;
/** Extended Erase counts from 0xFFF0 up are special codes (AN3155 3.8). */
export const EXTENDED_ERASE_SPECIAL = {
  mass: 0xffff,
  bank1: 0xfffe,
  bank2: 0xfffd,
} as const;
export type ExtendedEraseSpecial = keyof typeof EXTENDED_ERASE_SPECIAL;

/** Thrown for arguments no frame can carry (a caller bug, never device input). */
export class CodecError extends RangeError {
  override readonly name = 'CodecError';
}

export type ReplyKind = 'ack' | 'nack' | 'busy' | 'other';

export function replyKind(byte: number): ReplyKind {
  if (byte === ACK) return 'ack';
  if (byte === NACK) return 'nack';
  if (byte === BUSY) return 'busy';
  return 'other';
}

/** XOR of all bytes: the checksum every multi-byte AN3155 frame ends with (FLASHING.md 4.1). */
export function xorChecksum(bytes: ArrayLike<number>, seed = 0): number {
  let x = seed & 0xff;
  for (let i = 0; i < bytes.length; i++) x ^= (bytes[i] ?? 0) & 0xff;
  return x;
}

function checkByte(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new CodecError(`${what} must be a byte, got ${value}`);
  }
}

/** `cmd, cmd ^ 0xFF`: how every command starts (FLASHING.md 4.1). */
export function commandFrame(cmd: number): Uint8Array {
  checkByte(cmd, 'command');
  return Uint8Array.of(cmd, cmd ^ 0xff);
}

/** Four bytes big-endian plus their XOR (FLASHING.md 4.1). */
export function addressFrame(address: number): Uint8Array {
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
    throw new CodecError(`address must be a 32-bit unsigned integer, got ${address}`);
  }
  const out = new Uint8Array(5);
  out[0] = (address >>> 24) & 0xff;
  out[1] = (address >>> 16) & 0xff;
  out[2] = (address >>> 8) & 0xff;
  out[3] = address & 0xff;
  out[4] = xorChecksum(out.subarray(0, 4));
  return out;
}

/** Read Memory length frame `L-1, (L-1) ^ 0xFF` for 1 <= L <= 256 (AN3155 3.4). */
export function readLengthFrame(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > MAX_BLOCK) {
    throw new CodecError(`read length must be 1..${MAX_BLOCK}, got ${length}`);
  }
  const n = length - 1;
  return Uint8Array.of(n, n ^ 0xff);
}

/** Rounds a length up to whole 32-bit words, as the bootloader requires (AN3155 3.6). */
export function paddedLength(length: number): number {
  return Math.ceil(length / 4) * 4;
}

/**
 * Write Memory payload `N-1, data..., xor(N-1, data...)`. Data is padded with 0xFF to a multiple of
 * 4 bytes like stm32flash (stm32.c:618-682): 0xFF leaves erased flash untouched.
 */
export function writePayload(data: Uint8Array): Uint8Array {
  if (data.length < 1 || data.length > MAX_BLOCK) {
    throw new CodecError(`write block must be 1..${MAX_BLOCK} bytes, got ${data.length}`);
  }
  const len = paddedLength(data.length);
  const out = new Uint8Array(len + 2).fill(0xff);
  out[0] = len - 1;
  out.set(data, 1);
  out[len + 1] = xorChecksum(out.subarray(0, len + 1));
  return out;
}

/** Erase (0x43) global erase `FF 00` (AN3155 3.7). */
export function eraseGlobalPayload(): Uint8Array {
  return Uint8Array.of(0xff, 0x00);
}

/** Erase (0x43) page list `N-1, pages..., xor` with one byte per page number (AN3155 3.7). */
export function erasePagesPayload(pages: readonly number[]): Uint8Array {
  if (pages.length < 1 || pages.length > MAX_ERASE_PAGES) {
    throw new CodecError(`Erase takes 1..${MAX_ERASE_PAGES} pages, got ${pages.length}`);
  }
  const out = new Uint8Array(pages.length + 2);
  out[0] = pages.length - 1;
  pages.forEach((p, i) => {
    checkByte(p, 'page number for Erase (0x43)');
    out[i + 1] = p;
  });
  out[pages.length + 1] = xorChecksum(out.subarray(0, pages.length + 1));
  return out;
}

/**
 * Extended Erase (0x44) page list: `N-1` as 2 bytes MSB first, N page numbers of 2 bytes MSB
 * first, then the XOR of all of those bytes (AN3155 3.8; FLASHING.md 4.2).
 */
export function extendedErasePagesPayload(pages: readonly number[]): Uint8Array {
  if (pages.length < 1 || pages.length > MAX_EXTENDED_ERASE_PAGES) {
    throw new CodecError(
      `Extended Erase takes 1..${MAX_EXTENDED_ERASE_PAGES} pages per command, got ${pages.length}`,
    );
  }
  const out = new Uint8Array(2 + pages.length * 2 + 1);
  const n = pages.length - 1;
  out[0] = n >> 8;
  out[1] = n & 0xff;
  pages.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p > 0xffff) {
      throw new CodecError(`page number for Extended Erase must be 0..65535, got ${p}`);
    }
    out[2 + i * 2] = p >> 8;
    out[3 + i * 2] = p & 0xff;
  });
  out[out.length - 1] = xorChecksum(out.subarray(0, out.length - 1));
  return out;
}

/** Extended Erase special codes: `FFFF 00` mass erase, `FFFE 01` bank 1, `FFFD 02` bank 2. */
export function extendedEraseSpecialPayload(kind: ExtendedEraseSpecial = 'mass'): Uint8Array {
  const code = EXTENDED_ERASE_SPECIAL[kind];
  const out = Uint8Array.of(code >> 8, code & 0xff, 0);
  out[2] = xorChecksum(out.subarray(0, 2));
  return out;
}

export interface GetReply {
  /** Bootloader protocol version byte, e.g. 0x22 = v2.2. */
  version: number;
  /** Command codes the bootloader supports, in the order sent. */
  commands: number[];
}

/**
 * Parses the body of a Get (0x00) reply: the byte count N was read first, then `body` holds the
 * N+1 bytes that followed (version, then N command codes) (FLASHING.md 4.2; stm32.c:457-532).
 */
export function parseGetReply(n: number, body: Uint8Array): GetReply {
  if (body.length !== n + 1 || body.length < 1) {
    throw new CodecError(`Get reply: expected ${n + 1} bytes after the count, got ${body.length}`);
  }
  return { version: body[0] ?? 0, commands: Array.from(body.subarray(1)) };
}

export interface VersionReply {
  version: number;
  option1: number;
  option2: number;
}

/** Get Version & Read Protection (0x01): three bytes on UART (FLASHING.md 4.2; stm32.c:431-452). */
export function parseVersionReply(body: Uint8Array): VersionReply {
  if (body.length !== 3) {
    throw new CodecError(`Get Version reply must be 3 bytes, got ${body.length}`);
  }
  return { version: body[0] ?? 0, option1: body[1] ?? 0, option2: body[2] ?? 0 };
}

/**
 * Get ID (0x02): count N (= 1 on every known part) then N+1 bytes, PID MSB first. Extra bytes
 * are tolerated like stm32flash does; the PID is the first two.
 */
export function parseIdReply(n: number, body: Uint8Array): number {
  if (body.length !== n + 1 || body.length < 2) {
    throw new CodecError(`Get ID reply: expected at least 2 PID bytes, got ${body.length}`);
  }
  return ((body[0] ?? 0) << 8) | (body[1] ?? 0);
}

/** 0x22 -> "2.2" (AN3155: the version byte is major.minor in nibbles). */
export function formatVersion(version: number): string {
  return `${version >> 4}.${version & 0x0f}`;
}

/** Which erase command a bootloader understands, from its Get reply (they are exclusive). */
export function eraseCommandOf(reply: GetReply): number | null {
  if (reply.commands.includes(CMD.EXTENDED_ERASE)) return CMD.EXTENDED_ERASE;
  if (reply.commands.includes(CMD.ERASE)) return CMD.ERASE;
  return null;
}

/** `0x0800_0000`-style hex for messages and logs. */
export function hex(value: number, digits = 8): string {
  return `0x${value.toString(16).toUpperCase().padStart(digits, '0')}`;
}
