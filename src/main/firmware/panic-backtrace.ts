/**
 * Pure detection and decoding of ESP-IDF panic output, shared by the serial monitor (flasher/) and
 * the fleet crash decoder (crashes/), which must not import flasher/ (DESIGN.md layering). Issue:
 * "detect ESP32 panic backtraces and decode them to function names". The text formats are what
 * ESP-IDF's panic handler prints (components/esp_system/panic.c, port/arch/{xtensa,riscv}/panic_arch.c):
 *
 *   Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.
 *   Core  0 register dump:
 *   PC      : 0x400d1b3a  PS      : 0x00060730  A0      : 0x800d0f6c  A1      : 0x3ffb1f50
 *   ...EXCVADDR: 0x00000000 ...
 *   Backtrace: 0x400d1b37:0x3ffb1f50 0x400d0f69:0x3ffb1f70 |<-CORRUPTED
 *   ELF file SHA256: ...
 *   Rebooting...
 *
 * RISC-V chips (C3/C6/H2) dump MEPC/RA/SP/MTVAL instead of PC/A0/A1/EXCVADDR and, without the
 * eh_frame option, no "Backtrace:" line; then MEPC and RA are the two frames we can name.
 * `abort() was called at PC 0x... on core N` and `assert failed: ...` precede aborts; older IDF
 * prints `Guru Meditation Error of type LoadProhibited occurred on core  0`.
 */
import type { SymbolTable } from './elf-symbols';

export interface PanicFrame {
  pc: number;
  /** Stack pointer of the frame; absent for RISC-V RA frames, which the dump gives no SP for. */
  sp?: number;
  /** Function name from the ELF symbol table, when one was supplied and matched. */
  fn?: string;
  /** pc - function start. */
  offset?: number;
}

export type PanicKind = 'exception' | 'abort' | 'assert' | 'stack_overflow';

export interface PanicInfo {
  /** "LoadProhibited", "Load access fault", "abort() was called", "assert failed: app_main ...". */
  reason: string;
  kind: PanicKind;
  core?: number;
  arch: 'xtensa' | 'riscv' | 'unknown';
  /** Faulting PC (Xtensa PC, RISC-V MEPC, or the PC abort() was called from). */
  pc?: number;
  /** pc decoded, when a symbol table matched. */
  fn?: string;
  offset?: number;
  /** Xtensa EXCVADDR or RISC-V MTVAL: the bad address of a load/store fault. */
  faultAddress?: number;
  frames: PanicFrame[];
  /** The backtrace ended in `|<-CORRUPTED` (stack smashed; frames after that are unknown). */
  corrupted: boolean;
  /** Every register NAME: value pair of the dump. */
  registers: Record<string, number>;
  /** The raw lines of the panic block (bounded), for display and bug reports. */
  lines: string[];
}

const START_PATTERNS: RegExp[] = [
  /Guru Meditation Error/,
  /abort\(\) was called at PC/,
  /^\s*assert(ion)? .*failed/,
  /\*\*\*ERROR\*\*\* A stack overflow in task/,
];

const END_PATTERNS: RegExp[] = [
  /^\s*Rebooting\.\.\./,
  /^\s*CPU halted\./,
  /^\s*Entering gdb stub/,
  // A new boot banner means the reboot message was lost.
  /^\s*ets [A-Z][a-z]{2} /,
  /^\s*ESP-ROM:/,
];

/** Is this line the first line of a panic report? */
export function isPanicStart(line: string): boolean {
  return START_PATTERNS.some((re) => re.test(line));
}

export interface PanicDetectorOptions {
  /** A block longer than this is cut and decoded (RISC-V stack dumps are long). Default 256. */
  maxLines?: number;
}

/**
 * Groups monitor lines into panic blocks. Pure and synchronous: feed it lines; it returns a block
 * when one ends. The caller calls `flush()` after an idle pause, because a board that halts
 * instead of rebooting never prints an end marker.
 */
export class PanicDetector {
  private block: string[] | null = null;
  private readonly maxLines: number;

  constructor(opts: PanicDetectorOptions = {}) {
    this.maxLines = Math.max(8, opts.maxLines ?? 256);
  }

  get active(): boolean {
    return this.block !== null;
  }

  /** Returns the finished block's lines when `line` completes (or interrupts) one. */
  push(line: string): string[] | null {
    if (this.block === null) {
      if (isPanicStart(line)) this.block = [line];
      return null;
    }
    // A second Guru Meditation inside a block (double exception) starts a new report.
    if (/Guru Meditation Error/.test(line) && this.block.some((l) => /Guru Meditation/.test(l))) {
      const done = this.block;
      this.block = [line];
      return done;
    }
    this.block.push(line);
    if (END_PATTERNS.some((re) => re.test(line)) || this.block.length >= this.maxLines) {
      const done = this.block;
      this.block = null;
      return done;
    }
    return null;
  }

  flush(): string[] | null {
    const done = this.block;
    this.block = null;
    return done;
  }
}

const HEX = '0x[0-9a-fA-F]+';
const REG_PAIR = new RegExp(`\\b([A-Z][A-Z0-9]{0,9})\\s*:\\s*(${HEX})`, 'g');
const BT_PAIR = new RegExp(`(${HEX}):(${HEX})`, 'g');

function num(hex: string | undefined): number | undefined {
  if (hex === undefined) return undefined;
  const n = parseInt(hex, 16);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Decodes a panic block (lines or text). Returns null when the text holds no panic. With `symbols`
 * each frame's PC gets `fn` and `offset`.
 */
export function decodePanic(
  input: string | readonly string[],
  symbols?: SymbolTable | null,
): PanicInfo | null {
  const lines = (typeof input === 'string' ? input.split(/\r?\n/) : [...input]).map((l) =>
    l.replace(/\r$/, ''),
  );
  const startIdx = lines.findIndex(isPanicStart);
  if (startIdx < 0) return null;
  const block = lines.slice(startIdx);

  let reason: string | undefined;
  let kind: PanicKind | undefined;
  let core: number | undefined;
  let abortPc: number | undefined;
  let assertText: string | undefined;
  const registers: Record<string, number> = {};
  const backtrace: PanicFrame[] = [];
  let corrupted = false;
  let inRegisterDump = false;

  for (const line of block) {
    let m: RegExpExecArray | null;
    if ((m = /Core\s+(\d+)\s+panic'ed\s+\((.*)\)/.exec(line))) {
      core ??= Number(m[1]);
      reason ??= m[2];
      kind ??= 'exception';
      continue;
    }
    if ((m = /Guru Meditation Error of type (\S+) occurred on core\s+(\d+)/.exec(line))) {
      reason ??= m[1];
      core ??= Number(m[2]);
      kind ??= 'exception';
      continue;
    }
    if ((m = new RegExp(`abort\\(\\) was called at PC (${HEX})(?: on core (\\d+))?`).exec(line))) {
      abortPc = num(m[1]);
      if (m[2] !== undefined) core ??= Number(m[2]);
      continue;
    }
    if ((m = /^\s*(assert failed: .*|assertion .* failed.*)$/.exec(line))) {
      assertText ??= m[1]?.trim();
      continue;
    }
    if ((m = /\*\*\*ERROR\*\*\* A stack overflow in task (.+?) has been detected/.exec(line))) {
      reason ??= `stack overflow in task ${m[1]}`;
      kind ??= 'stack_overflow';
      continue;
    }
    if (/register dump:/.test(line)) {
      inRegisterDump = true;
      continue;
    }
    if ((m = /Backtrace:\s*(.*)$/.exec(line))) {
      inRegisterDump = false;
      const frames: PanicFrame[] = [];
      const rest = m[1] ?? '';
      for (const pair of rest.matchAll(BT_PAIR)) {
        const pc = num(pair[1]);
        const sp = num(pair[2]);
        // IDF prints 0x00000000:0x... where the unwinder gave up; that is not a frame.
        if (pc === undefined || pc === 0) continue;
        frames.push(sp === undefined ? { pc } : { pc, sp });
      }
      if (/CORRUPTED/.test(rest)) corrupted = true;
      backtrace.push(...frames);
      continue;
    }
    if (inRegisterDump || /^\s*(PC|MEPC)\s*:/.test(line)) {
      let any = false;
      for (const pair of line.matchAll(REG_PAIR)) {
        const v = num(pair[2]);
        if (pair[1] !== undefined && v !== undefined && !(pair[1] in registers)) {
          registers[pair[1]] = v;
          any = true;
        }
      }
      if (!any && line.trim() !== '') inRegisterDump = false;
    }
  }

  const isRiscv = 'MEPC' in registers || 'MCAUSE' in registers;
  const isXtensa = 'EXCCAUSE' in registers || 'PS' in registers || 'A1' in registers;
  const arch: PanicInfo['arch'] = isRiscv ? 'riscv' : isXtensa ? 'xtensa' : 'unknown';

  if (assertText !== undefined) {
    reason ??= assertText;
    kind ??= 'assert';
  }
  if (abortPc !== undefined) {
    reason ??= 'abort() was called';
    kind ??= 'abort';
  }
  reason ??= 'panic';
  kind ??= 'exception';

  const regPc = isRiscv ? registers.MEPC : registers.PC;
  const pc = abortPc ?? regPc;
  const faultAddress = isRiscv ? registers.MTVAL : registers.EXCVADDR;

  let frames: PanicFrame[];
  if (backtrace.length > 0) {
    frames = backtrace;
  } else if (isRiscv && registers.MEPC !== undefined) {
    frames = [
      registers.SP !== undefined
        ? { pc: registers.MEPC, sp: registers.SP }
        : { pc: registers.MEPC },
    ];
    if (registers.RA !== undefined && registers.RA !== 0) frames.push({ pc: registers.RA });
  } else if (pc !== undefined) {
    frames = [registers.A1 !== undefined ? { pc, sp: registers.A1 } : { pc }];
  } else {
    frames = [];
  }

  if (symbols) {
    for (const f of frames) {
      const hit = symbols.lookup(f.pc);
      if (hit) {
        f.fn = hit.name;
        f.offset = hit.offset;
      }
    }
  }

  const info: PanicInfo = {
    reason,
    kind,
    arch,
    frames,
    corrupted,
    registers,
    lines: block.slice(0, 512),
  };
  if (core !== undefined) info.core = core;
  if (pc !== undefined) {
    info.pc = pc;
    const hit = symbols?.lookup(pc);
    if (hit) {
      info.fn = hit.name;
      info.offset = hit.offset;
    }
  }
  if (faultAddress !== undefined) info.faultAddress = faultAddress;
  return info;
}

/** One readable line per frame, like idf_monitor: "0x400d1b37: app_main+0x13". */
export function formatFrame(f: PanicFrame): string {
  const pc = `0x${f.pc.toString(16).padStart(8, '0')}`;
  return f.fn ? `${pc}: ${f.fn}+0x${(f.offset ?? 0).toString(16)}` : `${pc}: ??`;
}

export interface BacktraceLine {
  /** Frames in order, innermost first; `0x00000000` pairs (where the unwinder stopped) left out. */
  frames: PanicFrame[];
  /** The line ended in `|<-CORRUPTED`. */
  corrupted: boolean;
}

/**
 * One `Backtrace: 0x400d1234:0x3ffb1230 ...` line on its own (the fleet decoder sees console lines
 * one at a time, not whole panic blocks). null when the line is not a backtrace with a frame.
 */
export function parseBacktraceLine(line: string): BacktraceLine | null {
  const m = /Backtrace:\s*(.*)$/.exec(line);
  if (!m) return null;
  const rest = m[1] ?? '';
  const frames: PanicFrame[] = [];
  for (const pair of rest.matchAll(BT_PAIR)) {
    const pc = num(pair[1]);
    const sp = num(pair[2]);
    if (pc === undefined || pc === 0) continue;
    frames.push(sp === undefined ? { pc } : { pc, sp });
  }
  if (frames.length === 0) return null;
  return { frames, corrupted: /CORRUPTED/.test(rest) };
}
