/**
 * ESP-IDF / Arduino-ESP32 application images (pure: bytes in, facts out), PROTOCOL.md 6: "byte 0
 * is 0xE9, the chip id is in the extended header, and the first segment holds the app descriptor".
 * Layouts from ESP-IDF `esp_app_format.h` (esp_image_header_t, esp_image_segment_header_t,
 * esp_app_desc_t) and esptool `bin_image.py`:
 *
 *   header (24 bytes): magic 0xE9 @0, segment_count @1, spi_mode @2, spi_speed:4|spi_size:4 @3,
 *     entry_addr u32 @4, wp_pin @8, spi_pin_drv[3] @9, chip_id u16 @12, min_chip_rev @14,
 *     min_chip_rev_full u16 @15, max_chip_rev_full u16 @17, reserved[4] @19, hash_appended @23
 *   segment header (8 bytes) @24: load_addr u32, data_len u32
 *   esp_app_desc_t (256 bytes) @32: magic 0xABCD5432 u32, secure_version u32 @4, reserv1[2] @8,
 *     version char[32] @16, project_name char[32] @48, time char[16] @80, date char[16] @96,
 *     idf_ver char[32] @112, app_elf_sha256 u8[32] @144, ...
 *
 * ESP8266 images (also magic 0xE9) have no extended header and no app descriptor.
 */
import { chipFromImageChipId } from './esp-chips';

export const ESP_IMAGE_MAGIC = 0xe9;
export const APP_DESC_MAGIC = 0xabcd5432;
export const IMAGE_HEADER_SIZE = 24;
export const SEGMENT_HEADER_SIZE = 8;
/** Where esp_app_desc_t sits in an app image: right after the first segment's header. */
export const APP_DESC_OFFSET = IMAGE_HEADER_SIZE + SEGMENT_HEADER_SIZE;
export const APP_DESC_SIZE = 256;
/** Bytes of an image needed to read its header and app descriptor. */
export const APP_HEAD_BYTES = APP_DESC_OFFSET + APP_DESC_SIZE;

export interface EspImageHeader {
  segments: number;
  entry: number;
  /** `chip_id` from the extended header (0 = ESP32, 9 = ESP32-S3, ...). */
  chipId: number;
  /** Our chip key ("esp32s3"), when the id is a known one. */
  chip?: string;
  /** A SHA-256 of the image is appended after its checksum. */
  hashAppended: boolean;
}

export interface AppDescriptor {
  secureVersion: number;
  version: string;
  projectName: string;
  /** `__TIME__` and `__DATE__` of the build ("12:00:00", "Dec  5 2026"). */
  time: string;
  date: string;
  idfVersion: string;
  /** SHA-256 of the ELF the image was made from, 64 hex characters. */
  elfSha256: string;
}

/** The image header, or null when the bytes do not look like an ESP image. */
export function parseEspImageHeader(data: Uint8Array): EspImageHeader | null {
  if (data.length < IMAGE_HEADER_SIZE || data[0] !== ESP_IMAGE_MAGIC) return null;
  const segments = data[1] ?? 0;
  if (segments < 1 || segments > 16) return null;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const chipId = dv.getUint16(12, true);
  const chip = chipFromImageChipId(chipId);
  return {
    segments,
    entry: dv.getUint32(4, true),
    chipId,
    ...(chip !== undefined ? { chip } : {}),
    hashAppended: data[23] === 1,
  };
}

/** The chip an ESP-IDF image header says it was built for, if it looks like one. */
export function imageChip(data: Uint8Array): string | undefined {
  return parseEspImageHeader(data)?.chip;
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(
    end < 0 ? bytes : bytes.subarray(0, end),
  );
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, '');
}

/** The app descriptor of an ESP app image, or null when the image has none. */
export function parseAppDescriptor(image: Uint8Array): AppDescriptor | null {
  if (parseEspImageHeader(image) === null || image.length < APP_HEAD_BYTES) return null;
  const d = image.subarray(APP_DESC_OFFSET, APP_DESC_OFFSET + APP_DESC_SIZE);
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (dv.getUint32(0, true) !== APP_DESC_MAGIC) return null;
  return {
    secureVersion: dv.getUint32(4, true),
    version: cString(d.subarray(16, 48)),
    projectName: cString(d.subarray(48, 80)),
    time: cString(d.subarray(80, 96)),
    date: cString(d.subarray(96, 112)),
    idfVersion: cString(d.subarray(112, 144)),
    elfSha256: Buffer.from(d.subarray(144, 176)).toString('hex'),
  };
}
