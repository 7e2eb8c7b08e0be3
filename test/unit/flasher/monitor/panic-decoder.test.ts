import { describe, expect, it } from 'vitest';
import { parseElfSymbols } from '../../../../src/main/firmware/elf-symbols';
import {
  PanicDetector,
  decodePanic,
  formatFrame,
  isPanicStart,
} from '../../../../src/main/flasher/monitor/panic-decoder';
import { buildElf32 } from '../../../support/elf32-writer';

const XTENSA_PANIC = `I (312) app: starting
Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.

Core  0 register dump:
PC      : 0x400d1b3a  PS      : 0x00060730  A0      : 0x800d0f6c  A1      : 0x3ffb1f50
A2      : 0x00000000  A3      : 0x3ffc00c4  A4      : 0x00000001  A5      : 0x3ffb1f70
A6      : 0x00000000  A7      : 0x00000001  A8      : 0x00000000  A9      : 0x3ffb1f30
A10     : 0x00000000  A11     : 0x3ffb2bac  A12     : 0x40082d1c  A13     : 0x06ff1ff8
A14     : 0x3ffb7078  A15     : 0x00000000  SAR     : 0x00000014  EXCCAUSE: 0x0000001c
EXCVADDR: 0x00000000  LBEG    : 0x400014fd  LEND    : 0x4000150d  LCOUNT  : 0xffffffff


Backtrace: 0x400d1b37:0x3ffb1f50 0x400d0f69:0x3ffb1f70 0x4008a2d5:0x3ffb1f90



ELF file SHA256: 8b9a2c1d4e5f6a7b

Rebooting...
ets Jun  8 2016 00:22:57`;

const RISCV_PANIC = `Guru Meditation Error: Core  0 panic'ed (Load access fault). Exception was unhandled.

Core  0 register dump:
MEPC    : 0x42005012  RA      : 0x42005104  SP      : 0x3fc8f2f0  GP      : 0x3fc8a600
TP      : 0x3fc8a2ac  T0      : 0x40057fa6  T1      : 0x0000000f  T2      : 0x00000000
S0/FP   : 0x00000000  S1      : 0x00000000  A0      : 0x00000001  A1      : 0x00000001
MSTATUS : 0x00001801  MTVEC   : 0x40380001  MCAUSE  : 0x00000005  MTVAL   : 0x00000004
MHARTID : 0x00000000

Stack memory:
3fc8f2f0: 0x00000000 0x00000000 0x00000000 0x42005104 0x00000000 0x00000000 0x00000000 0x00000000
3fc8f310: 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000

ELF file SHA256: 0000000000000000

Rebooting...`;

const ABORT = `assert failed: app_main main.c:12 (x == 1)


abort() was called at PC 0x400d2a0f on core 1


Backtrace: 0x40081c4e:0x3ffb4ea0 0x4008a2d1:0x3ffb4ec0 0x400d2a0f:0x3ffb4f60 0x400d1b40:0x3ffb4f80 |<-CORRUPTED


ELF file SHA256: 0000000000000000

Rebooting...`;

const xtensaSymbols = parseElfSymbols(
  buildElf32({
    symbols: [
      { name: 'app_main', value: 0x400d1b20, size: 0x40 },
      { name: 'main_task', value: 0x400d0f40, size: 0x40 },
      { name: 'vPortTaskWrapper', value: 0x4008a2c0, size: 0x20 },
      { name: 'abort', value: 0x40081c40, size: 0x20 },
      { name: 'do_check', value: 0x400d2a00, size: 0x20 },
    ],
  }),
);

describe('decodePanic', () => {
  it('decodes an Xtensa LoadProhibited dump with names from the ELF', () => {
    const p = decodePanic(XTENSA_PANIC, xtensaSymbols);
    expect(p).not.toBeNull();
    if (!p) return;
    expect(p.reason).toBe('LoadProhibited');
    expect(p.kind).toBe('exception');
    expect(p.core).toBe(0);
    expect(p.arch).toBe('xtensa');
    expect(p.pc).toBe(0x400d1b3a);
    expect(p.fn).toBe('app_main');
    expect(p.offset).toBe(0x1a);
    expect(p.faultAddress).toBe(0);
    expect(p.registers.EXCCAUSE).toBe(0x1c);
    expect(p.corrupted).toBe(false);
    expect(p.frames).toEqual([
      { pc: 0x400d1b37, sp: 0x3ffb1f50, fn: 'app_main', offset: 0x17 },
      { pc: 0x400d0f69, sp: 0x3ffb1f70, fn: 'main_task', offset: 0x29 },
      { pc: 0x4008a2d5, sp: 0x3ffb1f90, fn: 'vPortTaskWrapper', offset: 0x15 },
    ]);
    expect(p.lines[0]).toMatch(/^Guru Meditation/);
    expect(formatFrame(p.frames[0]!)).toBe('0x400d1b37: app_main+0x17');
  });

  it('decodes without a symbol table (addresses only)', () => {
    const p = decodePanic(XTENSA_PANIC);
    expect(p?.frames.map((f) => f.pc)).toEqual([0x400d1b37, 0x400d0f69, 0x4008a2d5]);
    expect(p?.frames[0]?.fn).toBeUndefined();
    expect(formatFrame(p!.frames[0]!)).toBe('0x400d1b37: ??');
  });

  it('decodes a RISC-V dump from MEPC/RA when there is no Backtrace line', () => {
    const riscv = parseElfSymbols(
      buildElf32({
        machine: 243,
        symbols: [
          { name: 'read_sensor', value: 0x42005000, size: 0x40 },
          { name: 'app_main', value: 0x42005100, size: 0x40 },
        ],
      }),
    );
    const p = decodePanic(RISCV_PANIC, riscv);
    expect(p?.arch).toBe('riscv');
    expect(p?.reason).toBe('Load access fault');
    expect(p?.pc).toBe(0x42005012);
    expect(p?.fn).toBe('read_sensor');
    expect(p?.faultAddress).toBe(4);
    expect(p?.frames).toEqual([
      { pc: 0x42005012, sp: 0x3fc8f2f0, fn: 'read_sensor', offset: 0x12 },
      { pc: 0x42005104, fn: 'app_main', offset: 4 },
    ]);
    // The stack memory dump is not mistaken for registers.
    expect(Object.keys(p?.registers ?? {})).not.toContain('3FC8F2F0');
  });

  it('decodes assert + abort with a corrupted backtrace', () => {
    const p = decodePanic(ABORT, xtensaSymbols);
    expect(p?.kind).toBe('assert');
    expect(p?.reason).toBe('assert failed: app_main main.c:12 (x == 1)');
    expect(p?.core).toBe(1);
    expect(p?.pc).toBe(0x400d2a0f);
    expect(p?.fn).toBe('do_check');
    expect(p?.corrupted).toBe(true);
    expect(p?.frames).toHaveLength(4);
    expect(p?.frames[0]?.fn).toBe('abort');
  });

  it('handles a bare abort and the old IDF 3 wording', () => {
    const a = decodePanic(
      'abort() was called at PC 0x400d2a0f on core 0\nBacktrace: 0x400d2a0f:0x3ffb4f60',
    );
    expect(a?.kind).toBe('abort');
    expect(a?.reason).toBe('abort() was called');
    const old = decodePanic(
      'Guru Meditation Error of type StoreProhibited occurred on core  1. Exception was unhandled.\nRegister dump:\nPC      : 0x400d1b3a  PS      : 0x00060730',
    );
    expect(old?.reason).toBe('StoreProhibited');
    expect(old?.core).toBe(1);
    expect(old?.pc).toBe(0x400d1b3a);
  });

  it('recognises a stack overflow report', () => {
    const p = decodePanic(
      '***ERROR*** A stack overflow in task sensor has been detected.\n\nBacktrace: 0x40081c4e:0x3ffb4ea0 0x00000000:0x00000000',
    );
    expect(p?.kind).toBe('stack_overflow');
    expect(p?.reason).toBe('stack overflow in task sensor');
    expect(p?.frames).toEqual([{ pc: 0x40081c4e, sp: 0x3ffb4ea0 }]);
  });

  it('returns null for ordinary output', () => {
    expect(decodePanic('I (10) wifi: connected\nBacktrace is a word here')).toBeNull();
    expect(decodePanic('')).toBeNull();
    expect(isPanicStart("Guru Meditation Error: Core  0 panic'ed (IllegalInstruction)")).toBe(true);
    expect(isPanicStart('I (1) boot: ok')).toBe(false);
  });
});

describe('PanicDetector', () => {
  it('groups lines into one block ending at Rebooting...', () => {
    const d = new PanicDetector();
    const blocks: string[][] = [];
    for (const line of XTENSA_PANIC.split('\n')) {
      const b = d.push(line);
      if (b) blocks.push(b);
    }
    expect(blocks).toHaveLength(1);
    expect(blocks[0]?.[0]).toMatch(/^Guru/);
    expect(blocks[0]?.at(-1)).toBe('Rebooting...');
    expect(d.active).toBe(false);
  });

  it('hands back an unterminated block on flush and caps long blocks', () => {
    const d = new PanicDetector({ maxLines: 10 });
    d.push('abort() was called at PC 0x400d2a0f on core 0');
    expect(d.active).toBe(true);
    expect(d.flush()).toEqual(['abort() was called at PC 0x400d2a0f on core 0']);
    expect(d.flush()).toBeNull();
    d.push("Guru Meditation Error: Core  0 panic'ed (LoadProhibited).");
    let out: string[] | null = null;
    for (let i = 0; i < 20 && !out; i++) out = d.push(`3fc8f2f0: 0x00000000 ${i}`);
    expect(out).toHaveLength(10);
  });

  it('splits a double exception into two reports', () => {
    const d = new PanicDetector();
    d.push("Guru Meditation Error: Core  0 panic'ed (LoadProhibited).");
    d.push('PC      : 0x400d1b3a  PS      : 0x00060730');
    const first = d.push("Guru Meditation Error: Core  0 panic'ed (Double exception).");
    expect(first).toHaveLength(2);
    expect(d.active).toBe(true);
  });
});
