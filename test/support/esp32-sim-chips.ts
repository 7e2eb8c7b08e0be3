/**
 * What the simulated chips answer: chip-detect magic, GET_SECURITY_INFO, efuse words (MAC,
 * package, revision), SPI controller registers and the RAM ranges a stub may be loaded into
 * (FLASHING.md 2.5-2.7; register values from esptool-js lib/targets/esp32*.js).
 */

export type SimChip = 'esp32' | 'esp32s3';

export interface SimChipProfile {
  chip: SimChip;
  magic: number;
  /** GET_SECURITY_INFO payload; null when the ROM does not know the command (ESP32, 2.5). */
  securityInfo: Uint8Array | null;
  /** SPI0/1 controller used for flash commands (runSpiflashCommand in esptool-js). */
  spi: {
    base: number;
    usr: number;
    usr1: number;
    usr2: number;
    w0: number;
    mosiDlen: number;
    misoDlen: number;
  };
  /** UART0 clock divider register, or undefined when the client does not read it. */
  uartClkdiv?: number;
  /** FLASH_BEGIN / FLASH_DEFL_BEGIN payload length the ROM takes (S2 and later add `encrypted`). */
  romBeginLength: 16 | 20;
  /** Where MEM_BEGIN may load code (IRAM) and data (DRAM). */
  iram: [number, number][];
  dram: [number, number][];
  /** Registers derived from the MAC and chip facts. */
  registers(mac: Uint8Array): Map<number, number>;
}

const u32 = (n: number): number => n >>> 0;

function macWords(mac: Uint8Array): { low: number; high: number } {
  const b = (i: number): number => mac[i] ?? 0;
  return {
    low: u32((b(2) << 24) | (b(3) << 16) | (b(4) << 8) | b(5)),
    high: u32((b(0) << 8) | b(1)),
  };
}

const ESP32: SimChipProfile = {
  chip: 'esp32',
  magic: 0x00f01d83,
  securityInfo: null,
  spi: {
    base: 0x3ff42000,
    usr: 0x1c,
    usr1: 0x20,
    usr2: 0x24,
    w0: 0x80,
    mosiDlen: 0x28,
    misoDlen: 0x2c,
  },
  uartClkdiv: 0x3ff40014,
  romBeginLength: 16,
  iram: [[0x40070000, 0x400c0000]],
  dram: [[0x3ffae000, 0x40000000]],
  registers(mac) {
    const { low, high } = macWords(mac);
    const efuse = 0x3ff5a000;
    return new Map([
      [0x40001000, this.magic],
      // EFUSE_BLK0 word 1/2: MAC (word 2's top byte is the MAC CRC, which clients ignore).
      [efuse + 4, low],
      [efuse + 8, high],
      // Word 3: package 1 (bits 9-11, "ESP32-D0WD"), rev bit 0 (bit 15): revision 1; dual core, BT.
      [efuse + 12, 0x00008200],
      [efuse + 16, 0],
      [efuse + 20, 0],
      [efuse + 24, 0],
      // APB_CTL_DATE: bit 31 would mean revision 3.
      [0x3ff66000 + 0x7c, 0],
    ]);
  },
};

const ESP32S3: SimChipProfile = {
  chip: 'esp32s3',
  magic: 0x00000009,
  // flags, flash_crypt_cnt, 7 key purposes, chip_id = 9, api_version = 0 (20 bytes, 2.3).
  securityInfo: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]),
  spi: {
    base: 0x60002000,
    usr: 0x18,
    usr1: 0x1c,
    usr2: 0x20,
    w0: 0x58,
    mosiDlen: 0x24,
    misoDlen: 0x28,
  },
  romBeginLength: 20,
  iram: [[0x40370000, 0x403e0000]],
  dram: [[0x3fc88000, 0x3fd00000]],
  registers(mac) {
    const { low, high } = macWords(mac);
    return new Map([
      [0x40001000, this.magic],
      [0x60007044, low],
      [0x60007048, high],
    ]);
  },
};

export const SIM_CHIPS: Record<SimChip, SimChipProfile> = { esp32: ESP32, esp32s3: ESP32S3 };

/** JEDEC size codes (esptool-js DETECTED_FLASH_SIZES). */
export const FLASH_SIZE_CODES: Record<string, number> = {
  '256KB': 0x12,
  '512KB': 0x13,
  '1MB': 0x14,
  '2MB': 0x15,
  '4MB': 0x16,
  '8MB': 0x17,
  '16MB': 0x18,
};

export function flashBytesOf(size: string): number {
  const m = /^(\d+)(KB|MB)$/.exec(size);
  if (!m || FLASH_SIZE_CODES[size] === undefined) throw new Error(`unsupported flash size ${size}`);
  return Number(m[1]) * (m[2] === 'MB' ? 1024 * 1024 : 1024);
}

/** A Winbond-style JEDEC ID (manufacturer 0xEF, type 0x40, capacity code). */
export function jedecFor(size: string): number {
  const code = FLASH_SIZE_CODES[size];
  if (code === undefined) throw new Error(`unsupported flash size ${size}`);
  return (code << 16) | (0x40 << 8) | 0xef;
}

export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new Error(`bad MAC ${mac}`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
