import { describe, it, expect } from 'vitest';
import {
  DEVICES,
  FLASH_START,
  eraseUnitsOf,
  findDevice,
  formatSize,
  unitsCovering,
} from '../../../../src/main/flasher/stm32/device-table';

describe('STM32 device table', () => {
  it('knows the F103 medium density part as stm32flash does', () => {
    const d = findDevice(0x410);
    expect(d?.name).toBe('STM32F10xxx Medium-density');
    expect(d?.flashStart).toBe(0x08000000);
    expect(d?.flashSize).toBe(128 * 1024);
    expect(d?.eraseUnits).toEqual([1024]);
    expect(d?.ramStart).toBe(0x20000200);
  });

  it('covers the families the flasher promises', () => {
    const families = new Set([...DEVICES.values()].map((d) => d.family));
    for (const f of ['F0', 'F1', 'F2', 'F3', 'F4', 'F7', 'G0', 'G4', 'L0', 'L1', 'L4', 'H7']) {
      expect(families.has(f), f).toBe(true);
    }
    for (const pid of [0x412, 0x410, 0x414, 0x430, 0x413, 0x419, 0x423, 0x431, 0x433]) {
      expect(findDevice(pid), pid.toString(16)).toBeDefined();
    }
    expect(findDevice(0x999)).toBeUndefined();
  });

  it('has erase units that add up to exactly the flash size for every part', () => {
    for (const d of DEVICES.values()) {
      const units = eraseUnitsOf(d);
      const total = units.reduce((a, u) => a + u.size, 0);
      expect(total, d.name).toBe(d.flashSize);
      expect(units[0]?.start).toBe(FLASH_START);
      units.forEach((u, i) => expect(u.index).toBe(i));
    }
  });

  it('maps the F405 sectors: 4 x 16 KB, 64 KB, 7 x 128 KB', () => {
    const units = eraseUnitsOf(findDevice(0x413)!);
    expect(units).toHaveLength(12);
    expect(units.map((u) => u.size / 1024)).toEqual([
      16, 16, 16, 16, 64, 128, 128, 128, 128, 128, 128, 128,
    ]);
    expect(units[5]?.start).toBe(0x08020000);
  });

  it('gives the 2 MB F42x two banks of 12 sectors, sector 12 at 0x08100000', () => {
    const units = eraseUnitsOf(findDevice(0x419)!);
    expect(units).toHaveLength(24);
    expect(units[12]?.start).toBe(0x08100000);
    expect(units[12]?.size).toBe(16 * 1024);
  });

  it('finds the pages an address range touches', () => {
    const f103 = findDevice(0x410)!;
    expect(unitsCovering(f103, 0x08000000, 0x08000000 + 20000).map((u) => u.index)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(unitsCovering(f103, 0x080003ff, 0x08000401).map((u) => u.index)).toEqual([0, 1]);
    expect(unitsCovering(f103, 0x08000400, 0x08000400)).toEqual([]);
    const f4 = findDevice(0x413)!;
    expect(unitsCovering(f4, 0x08000000, 0x08000000 + 20000).map((u) => u.index)).toEqual([0, 1]);
  });

  it('formats sizes the ChipInfo way', () => {
    expect(formatSize(128 * 1024)).toBe('128KB');
    expect(formatSize(1024 * 1024)).toBe('1MB');
    expect(formatSize(1536 * 1024)).toBe('1536KB');
    expect(formatSize(100)).toBe('100B');
  });
});
