/**
 * ESP chip names as the different tools spell them, mapped to one key.
 * esptool-js reports `CHIP_NAME` ("ESP32-S3"), ESP Web Tools manifests use `chipFamily`
 * ("ESP32-S3"), Mongoose OS uses `platform` ("esp32s3"), users type "esp32s3" or "ESP32_S3".
 */

export const ESP_CHIPS = [
  'esp32',
  'esp32s2',
  'esp32s3',
  'esp32c2',
  'esp32c3',
  'esp32c5',
  'esp32c6',
  'esp32c61',
  'esp32h2',
  'esp32p4',
  'esp8266',
] as const;

export type EspChip = (typeof ESP_CHIPS)[number];

/** "ESP32-S3", "esp32_s3", "esp32s3" -> "esp32s3"; unknown names are returned normalized. */
export function chipKey(name: string): string {
  return name.toLowerCase().replace(/[\s_-]/g, '');
}

export function isEspChip(name: string): name is EspChip {
  return (ESP_CHIPS as readonly string[]).includes(chipKey(name));
}

/** Display name in the style esptool uses: esp32s3 -> "ESP32-S3". */
export function chipDisplayName(name: string): string {
  const key = chipKey(name);
  const m = /^esp32([a-z]\d+)$/.exec(key);
  if (m?.[1]) return `ESP32-${m[1].toUpperCase()}`;
  return key.toUpperCase();
}

/**
 * Where the second-stage bootloader lives in flash (esptool targets `BOOTLOADER_FLASH_OFFSET`).
 * A merged image starts at 0 and has the bootloader at this offset.
 */
export function bootloaderOffset(name: string): number | undefined {
  switch (chipKey(name)) {
    case 'esp32':
    case 'esp32s2':
      return 0x1000;
    case 'esp32p4':
    case 'esp32c5':
      return 0x2000;
    case 'esp32s3':
    case 'esp32c2':
    case 'esp32c3':
    case 'esp32c6':
    case 'esp32c61':
    case 'esp32h2':
    case 'esp8266':
      return 0x0;
    default:
      return undefined;
  }
}

/**
 * `chip_id` in the extended header of an ESP-IDF app/bootloader image (byte 12, u16 LE), as
 * written by esptool `elf2image` (esptool targets `IMAGE_CHIP_ID`). ESP8266 images have none.
 */
const IMAGE_CHIP_IDS: Record<number, string> = {
  0: 'esp32',
  2: 'esp32s2',
  5: 'esp32c3',
  9: 'esp32s3',
  12: 'esp32c2',
  13: 'esp32c6',
  16: 'esp32h2',
  18: 'esp32p4',
  20: 'esp32c61',
  23: 'esp32c5',
};

export function chipFromImageChipId(id: number): string | undefined {
  return IMAGE_CHIP_IDS[id];
}
