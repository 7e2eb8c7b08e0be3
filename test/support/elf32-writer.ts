/**
 * Writes a small but valid ELF32 little-endian file with a `.symtab` (System V gABI layouts), so
 * the symbol reader is tested against real bytes rather than hand-picked offsets. Sections:
 * [0] null, [1] .text, [2] .symtab (link -> 3), [3] .strtab, [4] .shstrtab.
 */
export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  type?: 'func' | 'object' | 'notype';
  /** Section index; default 1 (.text). 0 makes it undefined (an import). */
  shndx?: number;
}

export interface ElfOptions {
  /** e_machine; default 94 (Xtensa). 243 = RISC-V. */
  machine?: number;
  symbols: ElfSymbol[];
  /** Put the string table offsets wrong on purpose (tests of bad files). */
  strtabLink?: number;
  /** Extra PROGBITS sections after [4] (`.debug_line` and friends for file:line decoding). */
  sections?: { name: string; data: Uint8Array }[];
}

const TYPE = { notype: 0, object: 1, func: 2 } as const;

export function buildElf32(opts: ElfOptions): Uint8Array {
  const strtab: number[] = [0];
  const nameOff = (s: string): number => {
    const off = strtab.length;
    strtab.push(...Buffer.from(s, 'utf8'), 0);
    return off;
  };
  const symEntries: Buffer[] = [Buffer.alloc(16)]; // index 0 is the null symbol
  for (const s of opts.symbols) {
    const e = Buffer.alloc(16);
    e.writeUInt32LE(nameOff(s.name), 0);
    e.writeUInt32LE(s.value >>> 0, 4);
    e.writeUInt32LE(s.size >>> 0, 8);
    e.writeUInt8((1 << 4) | TYPE[s.type ?? 'func'], 12); // STB_GLOBAL
    e.writeUInt8(0, 13);
    e.writeUInt16LE(s.shndx ?? 1, 14);
    symEntries.push(e);
  }
  const symtab = Buffer.concat(symEntries);
  const strtabBuf = Buffer.from(strtab);
  const shstr: number[] = [0];
  const shName = (s: string): number => {
    const off = shstr.length;
    shstr.push(...Buffer.from(s, 'latin1'), 0);
    return off;
  };
  const names = {
    text: shName('.text'),
    symtab: shName('.symtab'),
    strtab: shName('.strtab'),
    shstrtab: shName('.shstrtab'),
  };
  const extra = (opts.sections ?? []).map((x) => ({ name: shName(x.name), data: x.data }));
  const shstrBuf = Buffer.from(shstr);
  const text = Buffer.alloc(16, 0);

  const ehsize = 52;
  let off = ehsize;
  const textOff = off;
  off += text.length;
  const symOff = align(off, 4);
  off = symOff + symtab.length;
  const strOff = off;
  off += strtabBuf.length;
  const shstrOff = off;
  off += shstrBuf.length;
  const extraOffs = extra.map((x) => {
    const at = off;
    off += x.data.length;
    return at;
  });
  const shoff = align(off, 4);
  const shnum = 5 + extra.length;
  const file = Buffer.alloc(shoff + shnum * 40);

  file.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0); // magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT
  file.writeUInt16LE(2, 16); // ET_EXEC
  file.writeUInt16LE(opts.machine ?? 94, 18);
  file.writeUInt32LE(1, 20);
  file.writeUInt32LE(0x40080000, 24); // entry
  file.writeUInt32LE(0, 28); // phoff
  file.writeUInt32LE(shoff, 32);
  file.writeUInt32LE(0, 36); // flags
  file.writeUInt16LE(ehsize, 40);
  file.writeUInt16LE(32, 42);
  file.writeUInt16LE(0, 44);
  file.writeUInt16LE(40, 46);
  file.writeUInt16LE(shnum, 48);
  file.writeUInt16LE(4, 50);

  text.copy(file, textOff);
  symtab.copy(file, symOff);
  strtabBuf.copy(file, strOff);
  shstrBuf.copy(file, shstrOff);
  extra.forEach((x, i) => file.set(x.data, extraOffs[i] ?? 0));

  const sh = (i: number, f: number[]) => {
    f.forEach((v, k) => file.writeUInt32LE(v >>> 0, shoff + i * 40 + k * 4));
  };
  // name, type, flags, addr, offset, size, link, info, addralign, entsize
  sh(1, [names.text, 1, 6, 0x400d0000, textOff, text.length, 0, 0, 4, 0]);
  sh(2, [names.symtab, 2, 0, 0, symOff, symtab.length, opts.strtabLink ?? 3, 1, 4, 16]);
  sh(3, [names.strtab, 3, 0, 0, strOff, strtabBuf.length, 0, 0, 1, 0]);
  sh(4, [names.shstrtab, 3, 0, 0, shstrOff, shstrBuf.length, 0, 0, 1, 0]);
  extra.forEach((x, i) =>
    sh(5 + i, [x.name, 1, 0, 0, extraOffs[i] ?? 0, x.data.length, 0, 0, 1, 0]),
  );
  return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
