/**
 * The two parts the STM32 bootloader simulator can pretend to be (FLASHING.md 4.2-4.3). Written out
 * by hand, independently of src/main/flasher/stm32/device-table.ts, so the simulator checks our
 * client rather than agreeing with it by construction. Values: ST AN2606 / stm32flash dev_table.c.
 */
export type SimPartName = 'f103' | 'f4';

export interface SimPart {
  key: SimPartName;
  name: string;
  pid: number;
  /** Get (0x00) version byte and Get Version (0x01) reply. */
  bootloaderVersion: number;
  option1: number;
  option2: number;
  /** Commands listed by Get, in order (0x43 and 0x44 are exclusive). */
  commands: number[];
  flashStart: number;
  /** Erase units from flash start (pages on F1, sectors on F4); their sum is the flash size. */
  units: number[];
  /** RAM the bootloader lets the host write: [start, end). */
  ram: [number, number];
  /** System memory (the bootloader itself): readable, not writable. */
  system: [number, number];
  /** Option bytes: start address and contents. */
  optionStart: number;
  optionBytes: number[];
  /** Banks for Extended Erase FFFE/FFFD, as unit index ranges; empty = single bank. */
  banks: Array<[number, number]>;
}

const K = 1024;

export const SIM_PARTS: Record<SimPartName, SimPart> = {
  // STM32F103 medium density ("blue pill"): 128 KB in 1 KB pages, bootloader V2.2, Erase 0x43.
  f103: {
    key: 'f103',
    name: 'STM32F10xxx Medium-density',
    pid: 0x0410,
    bootloaderVersion: 0x22,
    option1: 0x00,
    option2: 0x00,
    commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43, 0x63, 0x73, 0x82, 0x92],
    flashStart: 0x08000000,
    units: new Array<number>(128).fill(1 * K),
    ram: [0x20000200, 0x20005000],
    system: [0x1ffff000, 0x1ffff800],
    optionStart: 0x1ffff800,
    // RDP = 0xA5 (level 0) and its complement, then user/data/WRP bytes with complements.
    optionBytes: [
      0xa5, 0x5a, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff,
      0x00,
    ],
    banks: [],
  },
  // STM32F405/407 (PID 0x413): 1 MB in 12 sectors (4 x 16 KB, 64 KB, 7 x 128 KB), V3.1, 0x44.
  f4: {
    key: 'f4',
    name: 'STM32F40xxx/41xxx',
    pid: 0x0413,
    bootloaderVersion: 0x31,
    option1: 0x00,
    option2: 0x00,
    commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92],
    flashStart: 0x08000000,
    units: [16 * K, 16 * K, 16 * K, 16 * K, 64 * K, ...new Array<number>(7).fill(128 * K)],
    ram: [0x20003000, 0x20020000],
    system: [0x1fff0000, 0x1fff7800],
    optionStart: 0x1fffc000,
    optionBytes: [
      0xaa, 0xee, 0x55, 0x11, 0xff, 0x0f, 0x00, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff,
    ],
    banks: [],
  },
};

/**
 * The part with `flashSize` bytes of flash (the CLI's --flash-size), cut down or extended with
 * its last unit size. The size must end on an erase-unit boundary, as a real part's flash does.
 */
export function withFlashSize(part: SimPart, flashSize: number | undefined): SimPart {
  if (flashSize === undefined) return part;
  if (!Number.isInteger(flashSize) || flashSize <= 0 || flashSize > 16 * 1024 * 1024) {
    throw new Error(`flash size must be 1 byte..16 MB, got ${flashSize}`);
  }
  const last = part.units[part.units.length - 1] ?? 1024;
  const units: number[] = [];
  let total = 0;
  for (let i = 0; total < flashSize; i++) {
    const u = part.units[i] ?? last;
    units.push(u);
    total += u;
  }
  if (total !== flashSize) {
    throw new Error(
      `flash size ${flashSize} does not end on an erase-unit boundary of ${part.key} (next is ${total})`,
    );
  }
  return { ...part, units };
}
