/**
 * Firmware files for simulated devices, shaped like the real ones (PROTOCOL.md 6), so tests,
 * demos and benchmarks can send an update whose identity after the reboot is known in advance:
 * - `mosFwZip`: a Mongoose OS fw.zip; a `mos` device then reports the manifest's `build_id` as
 *   fw_id and its `version` as fw_version;
 * - `espAppImage`: an ESP-IDF / Arduino app .bin with an app descriptor; an `arduino` device then
 *   reports the descriptor's compile date/time as fw_id (`Dec  6 2026` `10:00:00` ->
 *   `20261206-100000`).
 * The body bytes are a deterministic pattern of the requested size (seeded, so two builds with
 * different seeds differ).
 */
import { strToU8, zipSync } from 'fflate';

export interface MosFwZipOptions {
  name?: string;
  platform?: string;
  version: string;
  build_id: string;
  /** Size of the app binary inside (stored uncompressed, so the zip is about this big). */
  bodyBytes?: number;
  seed?: number;
}

export function mosFwZip(o: MosFwZipOptions): Buffer {
  const name = o.name ?? 'sim-app';
  const manifest = {
    name,
    platform: o.platform ?? 'esp32',
    version: o.version,
    build_id: o.build_id,
    parts: { app: { src: `${name}.bin`, type: 'app', addr: 0x10000 } },
  };
  const body = pattern(o.bodyBytes ?? 8192, o.seed ?? 1);
  return Buffer.from(
    zipSync(
      {
        [`${name}/manifest.json`]: strToU8(JSON.stringify(manifest)),
        [`${name}/${name}.bin`]: body,
      },
      { level: 0 },
    ),
  );
}

export interface EspAppImageOptions {
  /** `esp_app_desc_t.version`. */
  version?: string;
  project?: string;
  /** `__DATE__` form: "Dec  6 2026". */
  date?: string;
  /** `__TIME__` form: "10:00:00". */
  time?: string;
  idf?: string;
  /** Image header chip id: 0 = ESP32. */
  chipId?: number;
  /** Whole image size; at least the header and descriptor (288 bytes). */
  size?: number;
  seed?: number;
}

/** Header, first segment header, esp_app_desc_t, then a pattern: see firmware/esp-image.ts. */
export function espAppImage(o: EspAppImageOptions = {}): Buffer {
  const img = Buffer.from(pattern(Math.max(o.size ?? 8192, 288), o.seed ?? 1));
  img.fill(0, 0, 288);
  img[0] = 0xe9;
  img[1] = 1; // one segment
  img[2] = 2; // DIO
  img[3] = 0x20; // 4 MB, 40 MHz
  img.writeUInt32LE(0x400d0000, 4); // entry point
  img[8] = 0xee; // no WP pin
  img.writeUInt16LE(o.chipId ?? 0, 12);
  img[23] = 0; // no SHA-256 appended
  img.writeUInt32LE(0x3f400020, 24); // DROM segment holding the descriptor
  img.writeUInt32LE(img.length - 32, 28);
  const d = 32;
  img.writeUInt32LE(0xabcd5432, d);
  img.write(o.version ?? '1.0.0', d + 16, 31, 'utf8');
  img.write(o.project ?? 'sim-app', d + 48, 31, 'utf8');
  img.write(o.time ?? '12:00:00', d + 80, 15, 'utf8');
  img.write(o.date ?? 'Dec  5 2026', d + 96, 15, 'utf8');
  img.write(o.idf ?? 'v5.2.1', d + 112, 31, 'utf8');
  return img;
}

/** Deterministic bytes (xorshift32), cheap for megabytes. */
function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed | 0) === 0 ? 0x9e3779b9 : seed | 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
