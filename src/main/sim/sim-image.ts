/**
 * What a simulated device reports after booting a new firmware image (PROTOCOL.md 6: after the
 * reboot Sys.GetInfo tells the new `fw_id`/`fw_version`). The image is recognised the way the
 * hub will see real ones:
 * - a Mongoose OS `fw.zip`: `manifest.json` gives `version`, `build_id` and `name` (the app);
 * - an ESP-IDF / Arduino-ESP32 app `.bin`: its `esp_app_desc_t` gives version and project name;
 * - anything else: the sha256 prefix of the bytes is both fw_id and fw_version.
 * Pure: bytes in, identity out.
 */
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import Type from 'typebox';
import { isValid } from '../validate';

export interface ImageIdentity {
  fwVersion: string;
  fwId: string;
  /** The application name when the image names one. */
  app?: string;
  kind: 'fw-zip' | 'esp-app' | 'raw';
}

/** Hex characters of sha256 used as a raw image's fw_id. */
export const FW_ID_HEX_CHARS = 16;

const Manifest = Type.Object({
  name: Type.Optional(Type.String()),
  platform: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  build_id: Type.Optional(Type.String()),
});

export function identifyImage(image: Uint8Array): ImageIdentity {
  const hash = createHash('sha256').update(image).digest('hex').slice(0, FW_ID_HEX_CHARS);
  const fromZip = readZipManifest(image);
  if (fromZip !== null) {
    return {
      kind: 'fw-zip',
      fwVersion: fromZip.version ?? hash,
      fwId: fromZip.build_id ?? hash,
      ...(fromZip.name !== undefined ? { app: fromZip.name } : {}),
    };
  }
  const desc = readEspAppDesc(image);
  if (desc !== null) {
    return {
      kind: 'esp-app',
      fwVersion: desc.version,
      fwId: hash,
      ...(desc.project !== '' ? { app: desc.project } : {}),
    };
  }
  return { kind: 'raw', fwVersion: hash, fwId: hash };
}

function readZipManifest(image: Uint8Array): Type.Static<typeof Manifest> | null {
  // Local file header signature "PK\x03\x04".
  if (image[0] !== 0x50 || image[1] !== 0x4b || image[2] !== 0x03 || image[3] !== 0x04) return null;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(image, {
      filter: (f) => f.name === 'manifest.json' || f.name.endsWith('/manifest.json'),
    });
  } catch {
    return null; // A corrupt zip is still an image; it just has no readable manifest.
  }
  // `mos build` nests files in one directory; take the shallowest manifest.
  const name = Object.keys(entries).sort((a, b) => a.split('/').length - b.split('/').length)[0];
  const bytes = name === undefined ? undefined : entries[name];
  if (bytes === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return null;
  }
  return isValid(Manifest, parsed) ? parsed : null;
}

/** ESP-IDF image: 24-byte header, 8-byte segment header, then esp_app_desc_t. */
const APP_DESC_OFFSET = 32;
const APP_DESC_MAGIC = 0xabcd5432;

function readEspAppDesc(image: Uint8Array): { version: string; project: string } | null {
  if (image.length < APP_DESC_OFFSET + 80 || image[0] !== 0xe9) return null;
  const buf = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  if (buf.readUInt32LE(APP_DESC_OFFSET) !== APP_DESC_MAGIC) return null;
  const cstr = (at: number, len: number): string => {
    const field = buf.subarray(at, at + len);
    const end = field.indexOf(0);
    return field.subarray(0, end === -1 ? len : end).toString('utf8');
  };
  const version = cstr(APP_DESC_OFFSET + 16, 32);
  if (version === '') return null;
  return { version, project: cstr(APP_DESC_OFFSET + 48, 32) };
}
