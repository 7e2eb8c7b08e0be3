/**
 * The firmware object of the library API (PROTOCOL.md 9: `{"id","name","version","platform",
 * "build_id","format","size","sha256","created","elf":bool}`, more fields allowed). Shared by the
 * hub and the dashboard; no Node, DOM or Electron imports.
 */
export type FirmwareFormat = 'fw.zip' | 'esp-app' | 'bin';

export const FIRMWARE_FORMATS: readonly FirmwareFormat[] = ['fw.zip', 'esp-app', 'bin'];

/** Facts from an ESP-IDF app image's `esp_app_desc_t` (PROTOCOL.md 6). */
export interface FirmwareAppInfo {
  project: string;
  version: string;
  idf: string;
  /** `__DATE__` and `__TIME__` of the build. */
  date: string;
  time: string;
  /** SHA-256 of the ELF the image was made from, hex. */
  elf_sha256: string;
}

export interface FirmwareObject {
  id: string;
  name: string;
  version: string;
  /** Mongoose OS platform or ESP chip ("esp32", "esp32s3"); "" when the file does not say. */
  platform: string;
  build_id: string;
  format: FirmwareFormat;
  size: number;
  sha256: string;
  /** Unix seconds. */
  created: number;
  /** True when the matching ELF is stored (for decoding crashes). */
  elf: boolean;
  notes: string;
  /** The uploaded file's name (label only). */
  file_name: string;
  /** `chip_id` of an ESP image header. */
  chip_id?: number;
  app?: FirmwareAppInfo;
  elf_sha256?: string;
  /** The `fw_id` devices report once running it (learned from the first update, PROTOCOL.md 6). */
  fw_id?: string;
}

/** One firmware installed on a device (what OTA recorded), newest last. */
export interface FirmwareInstall {
  device: string;
  /** null when that firmware was deleted from the library since. */
  firmware: string | null;
  fw_id: string;
  /** Unix seconds. */
  installed: number;
}
