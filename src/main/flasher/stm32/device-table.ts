/**
 * What the host must know about an STM32 once Get ID (0x02) has named its PID: where flash starts
 * and ends, and how it is cut into erase units (pages, or sectors on F2/F4/F7/H7). Pure data.
 *
 * Source: stm32flash 0.7 `dev_table.c` (itself "Bootloader device-dependent parameters" of ST
 * AN2606), transcribed from published copies of that table, not from the tarball; FLASHING.md 4.3.
 * As in stm32flash, sizes are the largest member of each PID family (the PID does not tell a
 * 64 KB F103C8 from a 128 KB F103CB); a smaller part NACKs writes past its real end.
 * Entries whose values we could not cross-check, or where we deliberately differ, carry `note`.
 */

export interface Stm32Device {
  pid: number;
  name: string;
  family: string;
  ramStart: number;
  /** Exclusive. */
  ramEnd: number;
  flashStart: number;
  flashSize: number;
  /**
   * Erase-unit sizes from the start of flash; the last one repeats to the end of flash (the
   * `fl_ps` arrays of dev_table.c). Extended Erase / Erase page numbers index these units.
   */
  eraseUnits: readonly number[];
  optionStart: number;
  /** Inclusive, as in dev_table.c. */
  optionEnd: number;
  systemStart: number;
  /** Exclusive. */
  systemEnd: number;
  /** False where dev_table.c sets F_NO_ME: the bootloader has no mass erase; erase page by page. */
  massErase: boolean;
  /** Values that are uncertain, or where we differ from stm32flash on purpose. */
  note?: string;
}

export const FLASH_START = 0x08000000;

const K = 1024;
const P128 = [128];
const P256 = [256];
const P1K = [1 * K];
const P2K = [2 * K];
const P4K = [4 * K];
const P8K = [8 * K];
const P128K = [128 * K];
/** F2/F4 single bank: 4 x 16 KB, 64 KB, then 128 KB sectors. */
const F2F4 = [16 * K, 16 * K, 16 * K, 16 * K, 64 * K, 128 * K];
/** F7 (F74x/F76x single bank): 4 x 32 KB, 128 KB, then 256 KB sectors. */
const F7 = [32 * K, 32 * K, 32 * K, 32 * K, 128 * K, 256 * K];
/**
 * F42x/F43x/F469 with 2 MB: two banks of 12 sectors each (RM0090 3.5, sectors 12-23 start at
 * 0x08100000). stm32flash's `f4db` models the 1 MB dual-bank option instead.
 */
const F4_2M = [...F2F4, 128 * K, 128 * K, 128 * K, 128 * K, 128 * K, 128 * K, ...F2F4];

interface Row {
  pid: number;
  name: string;
  family: string;
  ram: [number, number];
  flashEnd: number;
  units: readonly number[];
  option: [number, number];
  system: [number, number];
  noMassErase?: boolean;
  note?: string;
}

// One part per line keeps the table comparable with dev_table.c.
// prettier-ignore
const ROWS: Row[] = [
  // F0
  { pid: 0x440, name: 'STM32F030x8/F05xxx', family: 'F0', ram: [0x20000800, 0x20002000], flashEnd: 0x08010000, units: P1K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffec00, 0x1ffff800] },
  { pid: 0x442, name: 'STM32F030xC/F09xxx', family: 'F0', ram: [0x20001800, 0x20008000], flashEnd: 0x08040000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffd800, 0x1ffff800] },
  { pid: 0x444, name: 'STM32F03xx4/6', family: 'F0', ram: [0x20000800, 0x20001000], flashEnd: 0x08008000, units: P1K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffec00, 0x1ffff800] },
  { pid: 0x445, name: 'STM32F04xxx/F070x6', family: 'F0', ram: [0x20001800, 0x20001800], flashEnd: 0x08008000, units: P1K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffc400, 0x1ffff800] },
  { pid: 0x448, name: 'STM32F070xB/F071xx/F72xx', family: 'F0', ram: [0x20001800, 0x20004000], flashEnd: 0x08020000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffc800, 0x1ffff800] },
  // F1
  { pid: 0x412, name: 'STM32F10xxx Low-density', family: 'F1', ram: [0x20000200, 0x20002800], flashEnd: 0x08008000, units: P1K, option: [0x1ffff800, 0x1ffff80f], system: [0x1ffff000, 0x1ffff800] },
  { pid: 0x410, name: 'STM32F10xxx Medium-density', family: 'F1', ram: [0x20000200, 0x20005000], flashEnd: 0x08020000, units: P1K, option: [0x1ffff800, 0x1ffff80f], system: [0x1ffff000, 0x1ffff800] },
  { pid: 0x414, name: 'STM32F10xxx High-density', family: 'F1', ram: [0x20000200, 0x20010000], flashEnd: 0x08080000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1ffff000, 0x1ffff800] },
  { pid: 0x420, name: 'STM32F10xxx Medium-density VL', family: 'F1', ram: [0x20000200, 0x20002000], flashEnd: 0x08020000, units: P1K, option: [0x1ffff800, 0x1ffff80f], system: [0x1ffff000, 0x1ffff800] },
  { pid: 0x428, name: 'STM32F10xxx High-density VL', family: 'F1', ram: [0x20000200, 0x20008000], flashEnd: 0x08080000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1ffff000, 0x1ffff800] },
  { pid: 0x418, name: 'STM32F105xx/F107xx', family: 'F1', ram: [0x20001000, 0x20010000], flashEnd: 0x08040000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffb000, 0x1ffff800] },
  { pid: 0x430, name: 'STM32F10xxx XL-density', family: 'F1', ram: [0x20000800, 0x20018000], flashEnd: 0x08100000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffe000, 0x1ffff800] },
  // F2
  { pid: 0x411, name: 'STM32F2xxxx', family: 'F2', ram: [0x20002000, 0x20020000], flashEnd: 0x08100000, units: F2F4, option: [0x1fffc000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800] },
  // F3
  { pid: 0x432, name: 'STM32F373xx/F378xx', family: 'F3', ram: [0x20001400, 0x20008000], flashEnd: 0x08040000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffd800, 0x1ffff800] },
  { pid: 0x422, name: 'STM32F302xB(C)/F303xB(C)/F358xx', family: 'F3', ram: [0x20001400, 0x2000a000], flashEnd: 0x08040000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffd800, 0x1ffff800] },
  { pid: 0x439, name: 'STM32F301xx/F302x4(6/8)/F318xx', family: 'F3', ram: [0x20001800, 0x20004000], flashEnd: 0x08010000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffd800, 0x1ffff800] },
  { pid: 0x438, name: 'STM32F303x4(6/8)/F334xx/F328xx', family: 'F3', ram: [0x20001800, 0x20003000], flashEnd: 0x08010000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffd800, 0x1ffff800] },
  { pid: 0x446, name: 'STM32F302xD(E)/F303xD(E)/F398xx', family: 'F3', ram: [0x20001800, 0x20010000], flashEnd: 0x08080000, units: P2K, option: [0x1ffff800, 0x1ffff80f], system: [0x1fffd800, 0x1ffff800] },
  // F4
  { pid: 0x413, name: 'STM32F40xxx/41xxx', family: 'F4', ram: [0x20003000, 0x20020000], flashEnd: 0x08100000, units: F2F4, option: [0x1fffc000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800] },
  { pid: 0x419, name: 'STM32F42xxx/43xxx', family: 'F4', ram: [0x20003000, 0x20030000], flashEnd: 0x08200000, units: F4_2M, option: [0x1ffec000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800], note: 'dual-bank 2 MB sector map per RM0090, not stm32flash f4db' },
  { pid: 0x423, name: 'STM32F401xB(C)', family: 'F4', ram: [0x20003000, 0x20010000], flashEnd: 0x08040000, units: F2F4, option: [0x1fffc000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800] },
  { pid: 0x433, name: 'STM32F401xD(E)', family: 'F4', ram: [0x20003000, 0x20018000], flashEnd: 0x08080000, units: F2F4, option: [0x1fffc000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800] },
  { pid: 0x458, name: 'STM32F410xx', family: 'F4', ram: [0x20003000, 0x20008000], flashEnd: 0x08020000, units: F2F4, option: [0x1fffc000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800] },
  { pid: 0x431, name: 'STM32F411xx', family: 'F4', ram: [0x20003000, 0x20020000], flashEnd: 0x08080000, units: F2F4, option: [0x1fffc000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800] },
  { pid: 0x441, name: 'STM32F412xx', family: 'F4', ram: [0x20003000, 0x20040000], flashEnd: 0x08100000, units: F2F4, option: [0x1fffc000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800] },
  { pid: 0x421, name: 'STM32F446xx', family: 'F4', ram: [0x20003000, 0x20020000], flashEnd: 0x08080000, units: F2F4, option: [0x1fffc000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800] },
  { pid: 0x434, name: 'STM32F469xx/479xx', family: 'F4', ram: [0x20003000, 0x20060000], flashEnd: 0x08200000, units: F4_2M, option: [0x1ffec000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800], note: 'dual-bank 2 MB sector map per RM0386, not stm32flash f4db' },
  { pid: 0x463, name: 'STM32F413xx/423xx', family: 'F4', ram: [0x20003000, 0x20050000], flashEnd: 0x08180000, units: F2F4, option: [0x1fffc000, 0x1fffc00f], system: [0x1fff0000, 0x1fff7800] },
  // F7
  { pid: 0x452, name: 'STM32F72xxx/73xxx', family: 'F7', ram: [0x20004000, 0x20040000], flashEnd: 0x08080000, units: F2F4, option: [0x1fff0000, 0x1fff001f], system: [0x1ff00000, 0x1ff0edc0] },
  { pid: 0x449, name: 'STM32F74xxx/75xxx', family: 'F7', ram: [0x20004000, 0x20050000], flashEnd: 0x08100000, units: F7, option: [0x1fff0000, 0x1fff001f], system: [0x1ff00000, 0x1ff0edc0] },
  { pid: 0x451, name: 'STM32F76xxx/77xxx', family: 'F7', ram: [0x20004000, 0x20080000], flashEnd: 0x08200000, units: F7, option: [0x1fff0000, 0x1fff001f], system: [0x1ff00000, 0x1ff0edc0], note: 'single-bank sector map; dual-bank mode (nDBANK=0) differs' },
  // G0
  { pid: 0x466, name: 'STM32G03xxx/04xxx', family: 'G0', ram: [0x20001000, 0x20002000], flashEnd: 0x08010000, units: P2K, option: [0x1fff7800, 0x1fff787f], system: [0x1fff0000, 0x1fff2000] },
  { pid: 0x460, name: 'STM32G07xxx/08xxx', family: 'G0', ram: [0x20002700, 0x20009000], flashEnd: 0x08020000, units: P2K, option: [0x1fff7800, 0x1fff787f], system: [0x1fff0000, 0x1fff7000] },
  { pid: 0x467, name: 'STM32G0B0/B1/C1xx', family: 'G0', ram: [0x20004000, 0x20020000], flashEnd: 0x08080000, units: P2K, option: [0x1fff7800, 0x1fff787f], system: [0x1fff0000, 0x1fff7000] },
  { pid: 0x456, name: 'STM32G05xxx/061xx', family: 'G0', ram: [0x20001000, 0x20004800], flashEnd: 0x08010000, units: P2K, option: [0x1fff7800, 0x1fff787f], system: [0x1fff0000, 0x1fff2000], note: 'RAM end as in stm32flash; AN2606 may say 0x20002000' },
  // G4
  { pid: 0x468, name: 'STM32G431xx/441xx', family: 'G4', ram: [0x20004000, 0x20005800], flashEnd: 0x08020000, units: P2K, option: [0x1fff7800, 0x1fff782f], system: [0x1fff0000, 0x1fff7000] },
  { pid: 0x469, name: 'STM32G47xxx/48xxx', family: 'G4', ram: [0x20004000, 0x20018000], flashEnd: 0x08080000, units: P2K, option: [0x1fff7800, 0x1fff782f], system: [0x1fff0000, 0x1fff7000], note: 'page size 2 KB assumes single-bank (DBANK=0) mode' },
  { pid: 0x479, name: 'STM32G491xx/A1xx', family: 'G4', ram: [0x20004000, 0x2001c000], flashEnd: 0x08080000, units: P2K, option: [0x1fff7800, 0x1fff782f], system: [0x1fff0000, 0x1fff7000] },
  // H7
  { pid: 0x483, name: 'STM32H72xxx/73xxx', family: 'H7', ram: [0x20004100, 0x20020000], flashEnd: 0x08100000, units: P128K, option: [0, 0], system: [0x1ff00000, 0x1ff1e800] },
  { pid: 0x450, name: 'STM32H74xxx/75xxx', family: 'H7', ram: [0x20004100, 0x20020000], flashEnd: 0x08200000, units: P128K, option: [0, 0], system: [0x1ff00000, 0x1ff1e800], note: 'two banks of 8 sectors numbered 0-15 here; unverified on hardware' },
  { pid: 0x480, name: 'STM32H7A3xx/B3xx', family: 'H7', ram: [0x20004100, 0x20020000], flashEnd: 0x08100000, units: P8K, option: [0, 0], system: [0x1ff00000, 0x1ff14000] },
  // L0
  { pid: 0x457, name: 'STM32L01xxx/02xxx', family: 'L0', ram: [0x20000800, 0x20000800], flashEnd: 0x08004000, units: P128, option: [0x1ff80000, 0x1ff8001f], system: [0x1ff00000, 0x1ff01000], noMassErase: true },
  { pid: 0x425, name: 'STM32L031xx/041xx', family: 'L0', ram: [0x20001000, 0x20002000], flashEnd: 0x08008000, units: P128, option: [0x1ff80000, 0x1ff8001f], system: [0x1ff00000, 0x1ff01000], noMassErase: true },
  { pid: 0x417, name: 'STM32L05xxx/06xxx', family: 'L0', ram: [0x20001000, 0x20002000], flashEnd: 0x08010000, units: P128, option: [0x1ff80000, 0x1ff8001f], system: [0x1ff00000, 0x1ff01000], noMassErase: true },
  { pid: 0x447, name: 'STM32L07xxx/08xxx', family: 'L0', ram: [0x20002000, 0x20005000], flashEnd: 0x08030000, units: P128, option: [0x1ff80000, 0x1ff8001f], system: [0x1ff00000, 0x1ff02000], noMassErase: true },
  // L1
  { pid: 0x416, name: 'STM32L1xxx6(8/B)', family: 'L1', ram: [0x20000800, 0x20004000], flashEnd: 0x08020000, units: P256, option: [0x1ff80000, 0x1ff8001f], system: [0x1ff00000, 0x1ff01000], noMassErase: true },
  { pid: 0x429, name: 'STM32L1xxx6(8/B)A', family: 'L1', ram: [0x20001000, 0x20008000], flashEnd: 0x08020000, units: P256, option: [0x1ff80000, 0x1ff8001f], system: [0x1ff00000, 0x1ff01000], noMassErase: true },
  { pid: 0x427, name: 'STM32L1xxxC', family: 'L1', ram: [0x20001000, 0x20008000], flashEnd: 0x08040000, units: P256, option: [0x1ff80000, 0x1ff8001f], system: [0x1ff00000, 0x1ff02000], noMassErase: true },
  { pid: 0x436, name: 'STM32L1xxxD', family: 'L1', ram: [0x20001000, 0x2000c000], flashEnd: 0x08060000, units: P256, option: [0x1ff80000, 0x1ff8009f], system: [0x1ff00000, 0x1ff02000], noMassErase: true, note: 'older stm32flash releases allow mass erase here' },
  { pid: 0x437, name: 'STM32L1xxxE', family: 'L1', ram: [0x20001000, 0x20014000], flashEnd: 0x08080000, units: P256, option: [0x1ff80000, 0x1ff8009f], system: [0x1ff00000, 0x1ff02000], noMassErase: true },
  // L4
  { pid: 0x464, name: 'STM32L412xx/422xx', family: 'L4', ram: [0x20003100, 0x20008000], flashEnd: 0x08020000, units: P2K, option: [0x1fff7800, 0x1fff780f], system: [0x1fff0000, 0x1fff7000] },
  { pid: 0x435, name: 'STM32L43xxx/44xxx', family: 'L4', ram: [0x20003100, 0x2000c000], flashEnd: 0x08040000, units: P2K, option: [0x1fff7800, 0x1fff780f], system: [0x1fff0000, 0x1fff7000] },
  { pid: 0x462, name: 'STM32L45xxx/46xxx', family: 'L4', ram: [0x20003100, 0x20020000], flashEnd: 0x08080000, units: P2K, option: [0x1fff7800, 0x1fff780f], system: [0x1fff0000, 0x1fff7000] },
  { pid: 0x415, name: 'STM32L47xxx/48xxx', family: 'L4', ram: [0x20003100, 0x20018000], flashEnd: 0x08100000, units: P2K, option: [0x1fff7800, 0x1ffff80f], system: [0x1fff0000, 0x1fff7000] },
  { pid: 0x461, name: 'STM32L496xx/4A6xx', family: 'L4', ram: [0x20003100, 0x20040000], flashEnd: 0x08100000, units: P2K, option: [0x1fff7800, 0x1ffff80f], system: [0x1fff0000, 0x1fff7000] },
  { pid: 0x470, name: 'STM32L4Rxx/4Sxx', family: 'L4', ram: [0x20003200, 0x200a0000], flashEnd: 0x08100000, units: P2K, option: [0x1fff7800, 0x1ffff80f], system: [0x1fff0000, 0x1fff7000], note: 'parts go up to 2 MB with 4 KB (single-bank) pages; stm32flash says 1 MB / 2 KB' },
  { pid: 0x471, name: 'STM32L4P5xx/Q5xx', family: 'L4', ram: [0x20004000, 0x20050000], flashEnd: 0x08100000, units: P4K, option: [0x1ff00000, 0x1ff0000f], system: [0x1fff0000, 0x1fff7000], note: 'dual-bank; unverified' },
];

export const DEVICES: ReadonlyMap<number, Stm32Device> = new Map(
  ROWS.map((r) => {
    const dev: Stm32Device = {
      pid: r.pid,
      name: r.name,
      family: r.family,
      ramStart: r.ram[0],
      ramEnd: r.ram[1],
      flashStart: FLASH_START,
      flashSize: r.flashEnd - FLASH_START,
      eraseUnits: r.units,
      optionStart: r.option[0],
      optionEnd: r.option[1],
      systemStart: r.system[0],
      systemEnd: r.system[1],
      massErase: !r.noMassErase,
    };
    if (r.note) dev.note = r.note;
    return [r.pid, dev] as const;
  }),
);

export function findDevice(pid: number): Stm32Device | undefined {
  return DEVICES.get(pid);
}

export interface EraseUnit {
  /** The page (or sector) number the Erase commands use. */
  index: number;
  start: number;
  size: number;
}

/** Every erase unit of the part, from flash start to flash end. */
export function eraseUnitsOf(dev: Stm32Device): EraseUnit[] {
  const out: EraseUnit[] = [];
  const end = dev.flashStart + dev.flashSize;
  let addr = dev.flashStart;
  const last = dev.eraseUnits[dev.eraseUnits.length - 1] ?? dev.flashSize;
  for (let i = 0; addr < end; i++) {
    const size = Math.min(dev.eraseUnits[i] ?? last, end - addr);
    out.push({ index: i, start: addr, size });
    addr += size;
  }
  return out;
}

/** The erase units that overlap `[start, end)`; empty when the range is empty or outside flash. */
export function unitsCovering(dev: Stm32Device, start: number, end: number): EraseUnit[] {
  if (end <= start) return [];
  return eraseUnitsOf(dev).filter((u) => u.start < end && u.start + u.size > start);
}

/** 131072 -> '128KB', 1048576 -> '1MB' (the ChipInfo.flashSize style). */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024}KB`;
  return `${bytes}B`;
}
