/**
 * Encodes a `.debug_line` section (DWARF 4 or 5 header, DWARF 5 section 6.2) from plain rows, so
 * the line reader and the crash decoder are tested against bytes a compiler would lay out: special
 * opcodes, advance_pc / advance_line, set_address, end_sequence, and for DWARF 5 the entry formats
 * with `.debug_line_str` offsets.
 */
export interface LineRow {
  addr: number;
  /** Index into `files`. */
  file: number;
  line: number;
}

export interface LineUnit {
  /** Directories; files name one by index. Entry 0 is the compile directory. */
  dirs: string[];
  files: { name: string; dir: number }[];
  /** Sequences of rows in address order; each ends at `end` (exclusive). */
  sequences: { rows: LineRow[]; end: number }[];
}

export interface DebugLineSections {
  debugLine: Uint8Array;
  /** DWARF 5 only: the strings the headers point to. */
  debugLineStr: Uint8Array;
}

const LINE_BASE = -5;
const LINE_RANGE = 14;
const OPCODE_BASE = 13;
const STD_LENGTHS = [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1];

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const u16 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff];
const u32 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
const cstr = (s: string): number[] => [...Buffer.from(s, 'utf8'), 0];

function program(unit: LineUnit, version: 4 | 5): number[] {
  const p: number[] = [];
  // DWARF 5 numbers files from 0, earlier versions from 1.
  const fileNo = (i: number): number => (version >= 5 ? i : i + 1);
  for (const seq of unit.sequences) {
    let addr = seq.rows[0]?.addr ?? 0;
    let line = 1;
    let file = 1; // the state machine starts at file 1 in every version
    p.push(0, 5, 2, ...u32(addr)); // DW_LNE_set_address
    for (const r of seq.rows) {
      if (fileNo(r.file) !== file) {
        file = fileNo(r.file);
        p.push(4, ...uleb(file));
      }
      const dAddr = r.addr - addr;
      const dLine = r.line - line;
      const special = dLine - LINE_BASE + LINE_RANGE * dAddr + OPCODE_BASE;
      if (dLine >= LINE_BASE && dLine < LINE_BASE + LINE_RANGE && special <= 255 && dAddr >= 0) {
        p.push(special);
      } else {
        if (dAddr !== 0) p.push(2, ...uleb(dAddr));
        if (dLine !== 0) p.push(3, ...sleb(dLine));
        p.push(1); // DW_LNS_copy
      }
      addr = r.addr;
      line = r.line;
    }
    p.push(2, ...uleb(seq.end - addr));
    p.push(0, 1, 1); // DW_LNE_end_sequence
  }
  return p;
}

export function buildDebugLine(units: LineUnit[], version: 4 | 5 = 4): DebugLineSections {
  const lineStr: number[] = [];
  const strp = (s: string): number[] => {
    const off = lineStr.length;
    lineStr.push(...cstr(s));
    return u32(off);
  };
  const out: number[] = [];
  for (const unit of units) {
    const header: number[] = [1, 1, 1, LINE_BASE & 0xff, LINE_RANGE, OPCODE_BASE, ...STD_LENGTHS];
    if (version === 4) {
      for (const d of unit.dirs.slice(1)) header.push(...cstr(d));
      header.push(0);
      for (const f of unit.files) header.push(...cstr(f.name), ...uleb(f.dir), 0, 0);
      header.push(0);
    } else {
      // directory format: path as line_strp; file format: path line_strp, directory_index udata
      header.push(1, ...uleb(1), ...uleb(0x1f), ...uleb(unit.dirs.length));
      for (const d of unit.dirs) header.push(...strp(d));
      header.push(
        2,
        ...uleb(1),
        ...uleb(0x1f),
        ...uleb(2),
        ...uleb(0x0f),
        ...uleb(unit.files.length),
      );
      for (const f of unit.files) header.push(...strp(f.name), ...uleb(f.dir));
    }
    const prog = program(unit, version);
    const afterLength: number[] = [...u16(version)];
    if (version === 5) afterLength.push(4, 0);
    afterLength.push(...u32(header.length), ...header, ...prog);
    out.push(...u32(afterLength.length), ...afterLength);
  }
  return { debugLine: Uint8Array.from(out), debugLineStr: Uint8Array.from(lineStr) };
}
