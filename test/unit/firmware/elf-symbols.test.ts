import { describe, expect, it } from 'vitest';
import { parseElfSymbols, EM_RISCV, EM_XTENSA } from '../../../src/main/firmware/elf-symbols';
import { HubError } from '../../../src/shared/errors';
import { buildElf32 } from '../../support/elf32-writer';

const symbols = [
  { name: 'app_main', value: 0x400d1b20, size: 0x40 },
  { name: 'blink_task', value: 0x400d1b60, size: 0x30 },
  { name: '_xt_user_exit', value: 0x40082000, size: 0 }, // assembly label
  { name: 'static_buffer', value: 0x3ffb0000, size: 64, type: 'object' as const },
  { name: 'printf', value: 0, size: 0, shndx: 0 }, // undefined import
  { name: 'esp_restart', value: 0x400d2000, size: 0x20 },
];

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return (e as HubError).kind;
  }
  throw new Error('expected a throw');
}

describe('parseElfSymbols', () => {
  const table = parseElfSymbols(buildElf32({ symbols }));

  it('keeps only defined function symbols', () => {
    expect(table.size).toBe(4);
    expect(table.machine).toBe(EM_XTENSA);
  });

  it('finds the function containing an address, with the offset', () => {
    expect(table.lookup(0x400d1b20)).toEqual({ name: 'app_main', offset: 0 });
    expect(table.lookup(0x400d1b37)).toEqual({ name: 'app_main', offset: 0x17 });
    expect(table.lookup(0x400d1b5f)).toEqual({ name: 'app_main', offset: 0x3f });
    expect(table.lookup(0x400d1b60)).toEqual({ name: 'blink_task', offset: 0 });
  });

  it('is size-aware: an address in a gap after a sized function is unknown', () => {
    expect(table.lookup(0x400d1b90)).toBeNull(); // blink_task ends at 0x400d1b90
    expect(table.lookup(0x400d1fff)).toBeNull();
    expect(table.lookup(0x400d2010)).toEqual({ name: 'esp_restart', offset: 0x10 });
  });

  it('attributes nearby addresses to zero-size labels but not far ones', () => {
    expect(table.lookup(0x40082004)).toEqual({ name: '_xt_user_exit', offset: 4 });
    expect(table.lookup(0x40090000)).toBeNull();
  });

  it('returns null below the first symbol and for nonsense input', () => {
    expect(table.lookup(0x10)).toBeNull();
    expect(table.lookup(-1)).toBeNull();
    expect(table.lookup(1.5)).toBeNull();
    expect(table.lookup(Number.NaN)).toBeNull();
  });

  it('reads RISC-V ELFs the same way', () => {
    const t = parseElfSymbols(
      buildElf32({
        machine: EM_RISCV,
        symbols: [{ name: 'app_main', value: 0x42005000, size: 0x80 }],
      }),
    );
    expect(t.machine).toBe(EM_RISCV);
    expect(t.lookup(0x42005010)).toEqual({ name: 'app_main', offset: 0x10 });
  });

  it('rejects garbage with a coded image_invalid error', () => {
    expect(codeOf(() => parseElfSymbols(new Uint8Array(0)))).toBe('image_invalid');
    expect(codeOf(() => parseElfSymbols(new Uint8Array(100).fill(0x41)))).toBe('image_invalid');
    const random = new Uint8Array(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
    random.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
    expect(codeOf(() => parseElfSymbols(random))).toBe('image_invalid');
  });

  it('rejects ELF64 and big-endian files', () => {
    const good = buildElf32({ symbols });
    const elf64 = Uint8Array.from(good);
    elf64[4] = 2;
    expect(() => parseElfSymbols(elf64)).toThrow(/32-bit/);
    const be = Uint8Array.from(good);
    be[5] = 2;
    expect(() => parseElfSymbols(be)).toThrow(/little-endian/);
  });

  it('rejects every truncation of a valid file without crashing', () => {
    const good = buildElf32({ symbols });
    for (let len = 0; len < good.length; len += 7) {
      const cut = good.subarray(0, len);
      expect(codeOf(() => parseElfSymbols(cut))).toBe('image_invalid');
    }
  });

  it('rejects a symbol table linked to a missing string table', () => {
    expect(() => parseElfSymbols(buildElf32({ symbols, strtabLink: 9 }))).toThrow(/string table/);
  });

  it('rejects a stripped-looking file with no function symbols', () => {
    expect(() =>
      parseElfSymbols(buildElf32({ symbols: [{ name: 'x', value: 1, size: 1, type: 'object' }] })),
    ).toThrow(/no function symbols/);
  });

  it('survives random byte flips of a valid file (throws HubError or parses)', () => {
    const good = buildElf32({ symbols });
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let n = 0; n < 300; n++) {
      const f = Uint8Array.from(good);
      for (let k = 0; k < 4; k++) f[rnd() % f.length] = rnd() & 0xff;
      try {
        const t = parseElfSymbols(f);
        t.lookup(0x400d1b37);
      } catch (e) {
        expect(e).toBeInstanceOf(HubError);
      }
    }
  });
});
