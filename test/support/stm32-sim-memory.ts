/**
 * Memory of the simulated STM32 (pure, no I/O): flash that behaves like NOR flash (erased = 0xFF,
 * programming can only clear bits, erase works on whole pages/sectors), writable RAM, and
 * read-only system memory and option bytes. Each operation returns null on success or the
 * reason the real bootloader would NACK.
 */
import type { SimPart } from './stm32-sim-parts';

export interface Region {
  kind: 'flash' | 'ram' | 'system' | 'option';
  start: number;
  buf: Buffer;
}

export class SimMemory {
  readonly flash: Buffer;
  readonly ram: Buffer;
  readonly system: Buffer;
  readonly option: Buffer;
  /** Start address of each erase unit, plus the flash end as a last entry. */
  private readonly unitStarts: number[];

  constructor(readonly part: SimPart) {
    const size = part.units.reduce((a, b) => a + b, 0);
    this.flash = Buffer.alloc(size, 0xff);
    this.ram = Buffer.alloc(part.ram[1] - part.ram[0], 0);
    // Recognisable filler for the bootloader's own code.
    this.system = Buffer.alloc(part.system[1] - part.system[0], 0xa5);
    this.option = Buffer.from(part.optionBytes);
    this.unitStarts = [part.flashStart];
    for (const u of part.units) this.unitStarts.push((this.unitStarts.at(-1) ?? 0) + u);
  }

  get flashEnd(): number {
    return this.part.flashStart + this.flash.length;
  }

  get unitCount(): number {
    return this.part.units.length;
  }

  private regions(): Region[] {
    return [
      { kind: 'flash', start: this.part.flashStart, buf: this.flash },
      { kind: 'ram', start: this.part.ram[0], buf: this.ram },
      { kind: 'system', start: this.part.system[0], buf: this.system },
      { kind: 'option', start: this.part.optionStart, buf: this.option },
    ];
  }

  /** The region holding the whole of [address, address + length), or null. */
  regionOf(address: number, length = 1): Region | null {
    for (const r of this.regions()) {
      if (address >= r.start && address + length <= r.start + r.buf.length) return r;
    }
    return null;
  }

  read(address: number, length: number): Buffer | string {
    const r = this.regionOf(address, length);
    if (!r) return `read of ${length} bytes at 0x${address.toString(16)} is outside memory`;
    const off = address - r.start;
    return Buffer.from(r.buf.subarray(off, off + length));
  }

  /** Write Memory semantics: 4-aligned, inside flash or RAM, flash bits only go 1 -> 0. */
  write(address: number, data: Uint8Array): string | null {
    if (address % 4 !== 0) return `address 0x${address.toString(16)} is not 4-aligned`;
    const r = this.regionOf(address, data.length);
    if (!r) return `write of ${data.length} bytes at 0x${address.toString(16)} is outside memory`;
    if (r.kind === 'system' || r.kind === 'option') return `${r.kind} memory is not writable here`;
    const off = address - r.start;
    if (r.kind === 'flash') {
      for (let i = 0; i < data.length; i++) {
        const old = r.buf[off + i] ?? 0;
        const next = data[i] ?? 0;
        if ((old & next) !== next) {
          return `flash at 0x${(address + i).toString(16)} is not erased (0x${old.toString(16)} -> 0x${next.toString(16)})`;
        }
      }
    }
    r.buf.set(data, off);
    return null;
  }

  erasePages(pages: readonly number[]): string | null {
    for (const p of pages) {
      if (p < 0 || p >= this.unitCount)
        return `page ${p} does not exist (0..${this.unitCount - 1})`;
    }
    for (const p of pages) {
      const from = (this.unitStarts[p] ?? 0) - this.part.flashStart;
      const to = (this.unitStarts[p + 1] ?? 0) - this.part.flashStart;
      this.flash.fill(0xff, from, to);
    }
    return null;
  }

  massErase(): void {
    this.flash.fill(0xff);
  }

  /** Bank erase (Extended Erase FFFE / FFFD); null bank = part has one bank. */
  eraseBank(bank: 0 | 1): string | null {
    const range = this.part.banks[bank];
    if (!range) return `the part has no bank ${bank + 1}`;
    const pages: number[] = [];
    for (let p = range[0]; p <= range[1]; p++) pages.push(p);
    return this.erasePages(pages);
  }

  /** Whether the address can be jumped to by Go (flash or RAM). */
  isExecutable(address: number): boolean {
    const r = this.regionOf(address);
    return r !== null && (r.kind === 'flash' || r.kind === 'ram');
  }
}
