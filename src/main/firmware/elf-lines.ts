/**
 * A pure DWARF `.debug_line` reader (DWARF 2-5, 32-bit DWARF), so a crash PC becomes `file:line`
 * without a toolchain, as `addr2line` does for idf_monitor. Layouts follow DWARF 5 section 6.2
 * ("Line Number Information"); versions 2-4 differ only in the header (section 6.2.4).
 *
 * The reader is a generator that yields after every line-number program (one per compile unit),
 * so a caller can spread a large firmware ELF over several event-loop turns (crashes/ does).
 * A malformed unit ends the parse with what was read so far: a partly decoded backtrace is better
 * than none, and the input is a user's file, so nothing here may throw out of bounds.
 */

export interface LineMatch {
  file: string;
  line: number;
}

export interface LineTable {
  /** Rows kept (including end-of-sequence markers). */
  readonly size: number;
  /** The source line whose code contains `addr`, or null. */
  lookup(addr: number): LineMatch | null;
}

export interface ElfSection {
  name: string;
  offset: number;
  size: number;
}

/** Named sections of an ELF32 LE file; [] when the file is not one (elf-symbols reports why). */
export function elfSections(buf: Uint8Array): ElfSection[] {
  if (buf.length < 52 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[4] !== 1 || buf[5] !== 1) {
    return [];
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shoff = dv.getUint32(0x20, true);
  const shentsize = dv.getUint16(0x2e, true);
  const shnum = dv.getUint16(0x30, true);
  const shstrndx = dv.getUint16(0x32, true);
  if (shoff === 0 || shentsize < 40 || shoff + shnum * shentsize > buf.length) return [];
  if (shstrndx >= shnum) return [];
  const strOff = dv.getUint32(shoff + shstrndx * shentsize + 16, true);
  const strSize = dv.getUint32(shoff + shstrndx * shentsize + 20, true);
  if (strOff + strSize > buf.length) return [];
  const out: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    const nameOff = dv.getUint32(o, true);
    const offset = dv.getUint32(o + 16, true);
    const size = dv.getUint32(o + 20, true);
    const type = dv.getUint32(o + 4, true);
    // SHT_NOBITS (8) has no bytes in the file.
    if (type === 8 || nameOff >= strSize || offset + size > buf.length) continue;
    let end = strOff + nameOff;
    while (end < strOff + strSize && buf[end] !== 0) end++;
    const name = Buffer.from(
      buf.buffer,
      buf.byteOffset + strOff + nameOff,
      end - strOff - nameOff,
    ).toString('latin1');
    out.push({ name, offset, size });
  }
  return out;
}

/** A bounds-checked little-endian cursor; reading past the end throws `Truncated`. */
class Truncated extends Error {}

class Cursor {
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
    public end: number,
  ) {}
  u8(): number {
    if (this.pos >= this.end) throw new Truncated();
    return this.buf[this.pos++] ?? 0;
  }
  i8(): number {
    const v = this.u8();
    return v > 127 ? v - 256 : v;
  }
  u16(): number {
    return this.u8() | (this.u8() << 8);
  }
  u32(): number {
    return (this.u8() | (this.u8() << 8) | (this.u8() << 16) | (this.u8() << 24)) >>> 0;
  }
  /** Little-endian unsigned of n bytes; values past 2^32 are kept as far as a double holds them. */
  uN(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v += this.u8() * 2 ** (8 * i);
    return v;
  }
  uleb(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return result;
    }
  }
  sleb(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.u8();
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 53 && b & 0x40) result -= 2 ** shift;
    return result;
  }
  cstr(): string {
    const start = this.pos;
    while (this.pos < this.end && this.buf[this.pos] !== 0) this.pos++;
    if (this.pos >= this.end) throw new Truncated();
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + start, this.pos - start).toString(
      'utf8',
    );
    this.pos++;
    return s;
  }
  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new Truncated();
    this.pos += n;
  }
}

// DW_FORM_* codes used by DWARF 5 directory/file entry formats.
const FORM = {
  block: 0x09,
  block1: 0x0a,
  data1: 0x0b,
  data2: 0x05,
  data4: 0x06,
  data8: 0x07,
  data16: 0x1e,
  string: 0x08,
  strp: 0x0e,
  line_strp: 0x1f,
  udata: 0x0f,
  sdata: 0x0d,
  strx: 0x1a,
  strx1: 0x25,
  strx2: 0x26,
  strx4: 0x28,
} as const;
const LNCT_PATH = 1;
const LNCT_DIRECTORY_INDEX = 2;

/** Collected rows; end-of-sequence rows have line 0 and end a covered range. */
interface Builder {
  files: string[];
  fileIndex: Map<string, number>;
  sequences: { addr: number[]; line: number[]; file: number[] }[];
}

/** Section bytes `.debug_line` needs: the table and, for DWARF 5, the string sections. */
export interface DebugLineInput {
  buf: Uint8Array;
  debugLine: ElfSection;
  debugLineStr?: ElfSection;
  debugStr?: ElfSection;
}

/** Reads a NUL-terminated string at `off` of a string section; '' when out of range. */
function strAt(buf: Uint8Array, sec: ElfSection | undefined, off: number): string {
  if (!sec || off >= sec.size) return '';
  const c = new Cursor(buf, sec.offset + off, sec.offset + sec.size);
  try {
    return c.cstr();
  } catch {
    return '';
  }
}

function joinPath(dir: string, name: string): string {
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name) || dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/**
 * Parses `.debug_line` into `b`, yielding after each unit; then `finishLineTable(b)`. Use
 * `parseDebugLine` unless the work has to be spread over event-loop turns.
 */
export function* debugLineSteps(input: DebugLineInput, b: Builder): Generator<void, void, void> {
  const { buf, debugLine } = input;
  const secEnd = debugLine.offset + debugLine.size;
  let pos = debugLine.offset;
  while (pos + 4 <= secEnd) {
    const c = new Cursor(buf, pos, secEnd);
    const unitLength = c.u32();
    // 64-bit DWARF (0xffffffff) and reserved lengths: not produced by the ESP toolchains; stop.
    if (unitLength >= 0xfffffff0) return;
    const unitEnd = c.pos + unitLength;
    if (unitEnd > secEnd) return;
    c.end = unitEnd;
    try {
      parseUnit(c, input, b);
    } catch (err) {
      if (!(err instanceof Truncated)) throw err;
      // A unit cut short keeps the rows it produced; the next unit starts at its declared end.
    }
    pos = unitEnd;
    yield;
  }
}

function parseUnit(c: Cursor, input: DebugLineInput, b: Builder): void {
  const version = c.u16();
  if (version < 2 || version > 5) return;
  if (version >= 5) {
    c.u8(); // address_size (DW_LNE_set_address carries its own length)
    c.u8(); // segment_selector_size
  }
  const headerLength = c.u32();
  const programStart = c.pos + headerLength;
  const minInst = c.u8();
  if (version >= 4) c.u8(); // maximum_operations_per_instruction (VLIW only; 1 on ESP chips)
  c.u8(); // default_is_stmt: every row is kept, statement or not, as addr2line does
  const lineBase = c.i8();
  const lineRange = c.u8();
  const opcodeBase = c.u8();
  if (lineRange === 0 || opcodeBase === 0) return;
  const stdLengths: number[] = [];
  for (let i = 1; i < opcodeBase; i++) stdLengths.push(c.u8());

  // Files of this unit, mapped to indexes in the builder's global file list.
  const fileIds: number[] = [];
  const addFile = (path: string): void => {
    let id = b.fileIndex.get(path);
    if (id === undefined) {
      id = b.files.length;
      b.files.push(path);
      b.fileIndex.set(path, id);
    }
    fileIds.push(id);
  };
  if (version < 5) {
    const dirs = [''];
    for (let d = c.cstr(); d !== ''; d = c.cstr()) dirs.push(d);
    fileIds.push(-1); // file numbers start at 1 before DWARF 5
    for (let name = c.cstr(); name !== ''; name = c.cstr()) {
      const dir = c.uleb();
      c.uleb(); // mtime
      c.uleb(); // length
      addFile(joinPath(dirs[dir] ?? '', name));
    }
  } else {
    const readEntries = (): { path: string; dir: number }[] => {
      const fmtCount = c.u8();
      const fmt: [number, number][] = [];
      for (let i = 0; i < fmtCount; i++) fmt.push([c.uleb(), c.uleb()]);
      const count = c.uleb();
      const out: { path: string; dir: number }[] = [];
      for (let i = 0; i < count; i++) {
        let path = '';
        let dir = 0;
        for (const [type, form] of fmt) {
          const v = readForm(c, form, input);
          if (type === LNCT_PATH && typeof v === 'string') path = v;
          else if (type === LNCT_DIRECTORY_INDEX && typeof v === 'number') dir = v;
        }
        out.push({ path, dir });
      }
      return out;
    };
    const dirs = readEntries().map((d) => d.path);
    for (const f of readEntries()) addFile(joinPath(dirs[f.dir] ?? '', f.path));
  }
  c.pos = programStart;
  runProgram(c, { version, minInst, lineBase, lineRange, opcodeBase, stdLengths }, fileIds, b);
}

/** Reads one attribute value of a DWARF 5 entry format: a string, a number, or null (skipped). */
function readForm(c: Cursor, form: number, input: DebugLineInput): string | number | null {
  switch (form) {
    case FORM.string:
      return c.cstr();
    case FORM.line_strp:
      return strAt(input.buf, input.debugLineStr, c.u32());
    case FORM.strp:
      return strAt(input.buf, input.debugStr, c.u32());
    case FORM.udata:
      return c.uleb();
    case FORM.sdata:
      return c.sleb();
    case FORM.data1:
    case FORM.strx1:
      return c.u8();
    case FORM.data2:
    case FORM.strx2:
      return c.u16();
    case FORM.data4:
    case FORM.strx4:
      return c.u32();
    case FORM.data8:
      return c.uN(8);
    case FORM.data16:
      c.skip(16);
      return null;
    case FORM.strx:
      c.uleb();
      return null;
    case FORM.block:
      c.skip(c.uleb());
      return null;
    case FORM.block1:
      c.skip(c.u8());
      return null;
    default:
      // An unknown form has an unknown size: the rest of this header cannot be read.
      throw new Truncated();
  }
}

interface Header {
  version: number;
  minInst: number;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  stdLengths: number[];
}

function runProgram(c: Cursor, h: Header, fileIds: number[], b: Builder): void {
  let seq = { addr: [] as number[], line: [] as number[], file: [] as number[] };
  let address = 0;
  let file = 1;
  let line = 1;
  const reset = (): void => {
    address = 0;
    file = 1;
    line = 1;
  };
  const emit = (end: boolean): void => {
    seq.addr.push(address >>> 0);
    seq.line.push(end ? 0 : line);
    seq.file.push(fileIds[file] ?? -1);
    if (end) {
      if (seq.addr.length > 1) b.sequences.push(seq);
      seq = { addr: [], line: [], file: [] };
    }
  };
  while (c.pos < c.end) {
    const op = c.u8();
    if (op >= h.opcodeBase) {
      const adj = op - h.opcodeBase;
      address += Math.floor(adj / h.lineRange) * h.minInst;
      line += h.lineBase + (adj % h.lineRange);
      emit(false);
      continue;
    }
    switch (op) {
      case 0: {
        const len = c.uleb();
        const next = c.pos + len;
        if (len === 0) break;
        const sub = c.u8();
        if (sub === 1) {
          emit(true);
          reset();
        } else if (sub === 2) {
          address = c.uN(len - 1);
        } else if (sub === 3 && h.version < 5) {
          // DW_LNE_define_file: an extra file for this unit.
          const name = c.cstr();
          c.uleb();
          c.uleb();
          c.uleb();
          let id = b.fileIndex.get(name);
          if (id === undefined) {
            id = b.files.length;
            b.files.push(name);
            b.fileIndex.set(name, id);
          }
          fileIds.push(id);
        }
        c.pos = next;
        break;
      }
      case 1: // copy
        emit(false);
        break;
      case 2: // advance_pc
        address += c.uleb() * h.minInst;
        break;
      case 3: // advance_line
        line += c.sleb();
        break;
      case 4: // set_file
        file = c.uleb();
        break;
      case 8: // const_add_pc
        address += Math.floor((255 - h.opcodeBase) / h.lineRange) * h.minInst;
        break;
      case 9: // fixed_advance_pc
        address += c.u16();
        break;
      default: {
        // set_column, negate_stmt, basic_block, prologue_end, epilogue_begin, set_isa and any
        // opcode newer than this reader: skip their declared number of ULEB operands.
        const n = h.stdLengths[op - 1] ?? 0;
        for (let i = 0; i < n; i++) c.uleb();
      }
    }
  }
}

class SortedLines implements LineTable {
  constructor(
    private readonly addr: Uint32Array,
    private readonly line: Uint32Array,
    private readonly file: Int32Array,
    private readonly files: string[],
  ) {}
  get size(): number {
    return this.addr.length;
  }
  lookup(pc: number): LineMatch | null {
    if (!Number.isInteger(pc) || pc < 0 || pc > 0xffffffff) return null;
    const a = this.addr;
    let lo = 0;
    let hi = a.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((a[mid] ?? 0) <= pc) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // The last row at or below pc; an end-of-sequence marker there means pc is in no sequence.
    if (found < 0) return null;
    const line = this.line[found] ?? 0;
    const file = this.files[this.file[found] ?? -1];
    if (line === 0 || file === undefined) return null;
    return { file, line };
  }
}

export function newLineBuilder(): Builder {
  return { files: [], fileIndex: new Map(), sequences: [] };
}

/** Sorts the sequences by address and packs them into typed arrays (about 12 bytes a row). */
export function finishLineTable(b: Builder): LineTable {
  b.sequences.sort((x, y) => (x.addr[0] ?? 0) - (y.addr[0] ?? 0));
  let n = 0;
  for (const s of b.sequences) n += s.addr.length;
  const addr = new Uint32Array(n);
  const line = new Uint32Array(n);
  const file = new Int32Array(n);
  let i = 0;
  for (const s of b.sequences) {
    addr.set(s.addr, i);
    line.set(s.line, i);
    file.set(s.file, i);
    i += s.addr.length;
  }
  return new SortedLines(addr, line, file, b.files);
}

/** The DWARF inputs of an ELF, or null when it has no `.debug_line` (a release build). */
export function debugLineInput(buf: Uint8Array): DebugLineInput | null {
  const secs = elfSections(buf);
  const debugLine = secs.find((s) => s.name === '.debug_line');
  if (!debugLine) return null;
  const debugLineStr = secs.find((s) => s.name === '.debug_line_str');
  const debugStr = secs.find((s) => s.name === '.debug_str');
  return {
    buf,
    debugLine,
    ...(debugLineStr && { debugLineStr }),
    ...(debugStr && { debugStr }),
  };
}

/** Synchronous whole parse (tests, small files). null when the ELF has no line information. */
export function parseDebugLine(buf: Uint8Array): LineTable | null {
  const input = debugLineInput(buf);
  if (!input) return null;
  const b = newLineBuilder();
  for (const _ of debugLineSteps(input, b)) void _;
  return finishLineTable(b);
}
