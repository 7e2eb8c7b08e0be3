/**
 * A pure ELF32 little-endian symbol-table reader, enough to turn ESP32 panic PCs into function
 * names without a toolchain (issue: "decode them to function names using the ELF symbol table of
 * the matching firmware ... pure JS"). ESP32 (Xtensa) and ESP32-C/H (RISC-V) firmware ELFs are
 * both ELF32 LE. Layouts follow the System V gABI ("ELF header", "Sections", "Symbol Table"):
 *
 *   Elf32_Ehdr: e_ident[16], e_type u16, e_machine u16, e_version u32, e_entry u32, e_phoff u32,
 *               e_shoff u32 @0x20, e_flags u32, e_ehsize u16, e_phentsize u16, e_phnum u16,
 *               e_shentsize u16 @0x2e, e_shnum u16 @0x30, e_shstrndx u16 @0x32
 *   Elf32_Shdr (40 bytes): name, type, flags, addr, offset, size, link, info, addralign, entsize
 *   Elf32_Sym  (16 bytes): st_name u32, st_value u32, st_size u32, st_info u8, st_other u8,
 *               st_shndx u16
 *
 * The file comes from a user, so every offset is bounds-checked and a bad file is a coded
 * `image_invalid` error, never an exception from deep inside a DataView.
 */
import { HubError } from '../../shared/errors';

export interface SymbolMatch {
  name: string;
  /** addr - symbol start. */
  offset: number;
}

export interface SymbolTable {
  /** Number of function symbols kept. */
  readonly size: number;
  /** ELF e_machine: 94 = Xtensa, 243 = RISC-V. */
  readonly machine: number;
  /** The function containing `addr`, or null. */
  lookup(addr: number): SymbolMatch | null;
}

export const EM_XTENSA = 94;
export const EM_RISCV = 243;

const SHT_SYMTAB = 2;
const STT_FUNC = 2;
const SHN_UNDEF = 0;
const EHDR_SIZE = 52;
const SHDR_SIZE = 40;
const SYM_SIZE = 16;
/** Firmware ELFs have tens of thousands of symbols; this bounds memory for hostile files. */
export const MAX_SYMBOLS = 2_000_000;
const MAX_NAME = 1024;
/**
 * Assembly labels often have st_size 0. We accept a zero-size symbol for addresses up to this far
 * past its start (and before the next symbol), which covers hand-written vectors and trampolines
 * without attributing far-away code to a stray label.
 */
const ZERO_SIZE_REACH = 4096;

function bad(why: string): HubError {
  return new HubError('image_invalid', `not a usable ELF symbol table: ${why}`);
}

interface Sym {
  addr: number;
  size: number;
  name: string;
}

class SortedSymbols implements SymbolTable {
  constructor(
    private readonly syms: Sym[],
    readonly machine: number,
  ) {}
  get size(): number {
    return this.syms.length;
  }
  lookup(addr: number): SymbolMatch | null {
    if (!Number.isInteger(addr) || addr < 0 || addr > 0xffffffff) return null;
    const s = this.syms;
    // Last symbol whose start <= addr.
    let lo = 0;
    let hi = s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = s[mid];
      if (m === undefined) break;
      if (m.addr <= addr) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    // Several symbols may share a start (aliases) or nest; walk back over those that start at or
    // before addr and take the first whose extent covers it.
    for (let i = found; i >= 0 && i > found - 8; i--) {
      const m = s[i];
      if (m === undefined) break;
      const offset = addr - m.addr;
      if (m.size > 0 ? offset < m.size : offset < ZERO_SIZE_REACH) {
        return { name: m.name, offset };
      }
    }
    return null;
  }
}

/** Parses `.symtab` + its string table. Throws `HubError('image_invalid')` on anything unusable. */
export function parseElfSymbols(buf: Uint8Array): SymbolTable {
  if (!(buf instanceof Uint8Array)) throw bad('input is not a byte array');
  if (buf.length < EHDR_SIZE) throw bad(`file is ${buf.length} bytes, shorter than an ELF header`);
  if (buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) {
    throw bad('missing the \\x7fELF magic');
  }
  if (buf[4] !== 1) throw bad('not a 32-bit ELF (ESP32 firmware is ELF32)');
  if (buf[5] !== 1) throw bad('not little-endian');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const machine = dv.getUint16(18, true);
  const shoff = dv.getUint32(0x20, true);
  const shentsize = dv.getUint16(0x2e, true);
  const shnum = dv.getUint16(0x30, true);
  if (shoff === 0 || shnum === 0) throw bad('no section headers (stripped file?)');
  if (shentsize < SHDR_SIZE) throw bad(`section header size ${shentsize} < ${SHDR_SIZE}`);
  if (shoff + shnum * shentsize > buf.length) throw bad('section headers run past the end of file');

  const section = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      type: dv.getUint32(o + 4, true),
      offset: dv.getUint32(o + 16, true),
      size: dv.getUint32(o + 20, true),
      link: dv.getUint32(o + 24, true),
      entsize: dv.getUint32(o + 36, true),
    };
  };

  let symtab: ReturnType<typeof section> | null = null;
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type === SHT_SYMTAB) {
      symtab = s;
      break;
    }
  }
  if (!symtab) throw bad('no .symtab section (was the ELF stripped?)');
  const entsize = symtab.entsize || SYM_SIZE;
  if (entsize < SYM_SIZE) throw bad(`symbol entry size ${entsize} < ${SYM_SIZE}`);
  if (symtab.offset + symtab.size > buf.length) throw bad('.symtab runs past the end of file');
  if (symtab.link >= shnum) throw bad('.symtab names a string table that does not exist');
  const strtab = section(symtab.link);
  if (strtab.offset + strtab.size > buf.length) throw bad('.strtab runs past the end of file');

  const count = Math.floor(symtab.size / entsize);
  if (count > MAX_SYMBOLS) throw bad(`${count} symbols is more than the ${MAX_SYMBOLS} limit`);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const readName = (off: number): string => {
    if (off >= strtab.size) return '';
    const start = strtab.offset + off;
    const limit = Math.min(strtab.offset + strtab.size, start + MAX_NAME);
    let end = start;
    while (end < limit && buf[end] !== 0) end++;
    return decoder.decode(buf.subarray(start, end));
  };

  const syms: Sym[] = [];
  for (let i = 0; i < count; i++) {
    const o = symtab.offset + i * entsize;
    const info = dv.getUint8(o + 12);
    const shndx = dv.getUint16(o + 14, true);
    if ((info & 0xf) !== STT_FUNC || shndx === SHN_UNDEF) continue;
    const name = readName(dv.getUint32(o, true));
    if (name === '') continue;
    syms.push({ addr: dv.getUint32(o + 4, true), size: dv.getUint32(o + 8, true), name });
  }
  if (syms.length === 0) throw bad('the symbol table has no function symbols');
  // Sort by address; at equal addresses put sized symbols last so the back-walk in lookup sees a
  // sized symbol before a zero-size alias.
  syms.sort((a, b) => a.addr - b.addr || (a.size === 0 ? 0 : 1) - (b.size === 0 ? 0 : 1));
  return new SortedSymbols(syms, machine);
}
