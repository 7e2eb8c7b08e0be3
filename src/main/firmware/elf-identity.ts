/**
 * Which image an ELF belongs to. ESP-IDF writes the SHA-256 of the app's ELF into the image's
 * app descriptor (`app_elf_sha256`, esp-image.ts), and prints its first hex digits in every
 * panic ("ELF file SHA256: 8d2f1a..."). So an ELF is matched to images, and to crashing devices,
 * by the SHA-256 of its bytes, compared on the common prefix (at least 8 hex digits).
 */
import { EM_RISCV, EM_XTENSA } from './elf-symbols';

/** Fewest hex digits two hashes must share to count as one ELF (what IDF panics print). */
export const MIN_ELF_SHA_PREFIX = 8;

export interface ElfIdent {
  /** 32 or 64. */
  bits: number;
  littleEndian: boolean;
  /** e_machine: 94 = Xtensa, 243 = RISC-V. */
  machine: number;
  /** True for the machines ESP32 firmware is built for. */
  esp: boolean;
}

/** Reads the ELF identification (first 20 bytes); null when the bytes are not an ELF. */
export function elfIdent(head: Uint8Array): ElfIdent | null {
  if (head.length < 20) return null;
  if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return null;
  const bits = head[4] === 2 ? 64 : 32;
  const littleEndian = head[5] !== 2;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const machine = dv.getUint16(18, littleEndian);
  return { bits, littleEndian, machine, esp: machine === EM_XTENSA || machine === EM_RISCV };
}

/** True when two SHA-256 hex strings (full or shortened) name the same ELF. */
export function elfShaMatches(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const n = Math.min(x.length, y.length);
  if (n < MIN_ELF_SHA_PREFIX) return false;
  return x.slice(0, n) === y.slice(0, n);
}
