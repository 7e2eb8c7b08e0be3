/**
 * What a simulated device reports after booting a new firmware image (PROTOCOL.md 6: after the
 * reboot Sys.GetInfo tells the new `fw_id`/`fw_version`). The image is recognised the way the
 * hub sees real ones, so a test can predict the identity from the file it sends:
 * - Mongoose OS (`identifyImage`, whole image): a `fw.zip`'s `manifest.json` gives `version`,
 *   `build_id` and `name`; an ESP app `.bin` its descriptor's version and project; anything else
 *   the sha256 prefix of the bytes as both fw_id and fw_version.
 * - Arduino / ESP-IDF mDash library (`identifyAppImage`, only the image's head and its sha256,
 *   so the device never holds the image): `fw_id` is the app's build time from the descriptor's
 *   compile date and time (`20261205-120000`, as the library prints `__DATE__`/`__TIME__`); any
 *   other image gets the sha256 prefix. `fw_version` stays the library's, the same for every app.
 * Pure: bytes in, identity out.
 */
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import Type from 'typebox';
import { appBuildId } from '../firmware/firmware-inspect';
import { parseAppDescriptor } from '../firmware/esp-image';
import { isValid } from '../validate';

export { APP_HEAD_BYTES } from '../firmware/esp-image';

export interface ImageIdentity {
  fwVersion: string;
  fwId: string;
  /** The application name when the image names one. */
  app?: string;
  kind: 'fw-zip' | 'esp-app' | 'raw';
}

export interface AppImageIdentity {
  fwId: string;
  /** The descriptor's project name, when it has one. */
  app?: string;
  /** The descriptor's app version (the library does not report it; kept for tests). */
  appVersion?: string;
  kind: 'esp-app' | 'raw';
}

/** Hex characters of sha256 used as a raw image's fw_id. */
export const FW_ID_HEX_CHARS = 16;

const Manifest = Type.Object({
  name: Type.Optional(Type.String()),
  platform: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  build_id: Type.Optional(Type.String()),
});

/** The fw_id a device derives from an image's sha256 when the image names no build. */
export function hashFwId(sha256Hex: string): string {
  return sha256Hex.slice(0, FW_ID_HEX_CHARS);
}

export function identifyImage(image: Uint8Array): ImageIdentity {
  const hash = hashFwId(createHash('sha256').update(image).digest('hex'));
  const fromZip = readZipManifest(image);
  if (fromZip !== null) {
    return {
      kind: 'fw-zip',
      fwVersion: fromZip.version ?? hash,
      fwId: fromZip.build_id ?? hash,
      ...(fromZip.name !== undefined ? { app: fromZip.name } : {}),
    };
  }
  const desc = parseAppDescriptor(image);
  if (desc !== null && desc.version !== '') {
    return {
      kind: 'esp-app',
      fwVersion: desc.version,
      fwId: hash,
      ...(desc.projectName !== '' ? { app: desc.projectName } : {}),
    };
  }
  return { kind: 'raw', fwVersion: hash, fwId: hash };
}

/**
 * The identity the Arduino mDash library reports for an app image, from its first
 * APP_HEAD_BYTES bytes (or fewer when the image is shorter) and the sha256 of all of it.
 */
export function identifyAppImage(head: Uint8Array, sha256Hex: string): AppImageIdentity {
  const desc = parseAppDescriptor(head);
  const built = desc === null ? '' : appBuildId(desc.date, desc.time);
  if (desc === null || built === '') return { kind: 'raw', fwId: hashFwId(sha256Hex) };
  return {
    kind: 'esp-app',
    fwId: built,
    ...(desc.projectName !== '' ? { app: desc.projectName } : {}),
    ...(desc.version !== '' ? { appVersion: desc.version } : {}),
  };
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
