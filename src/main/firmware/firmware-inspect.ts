/**
 * What a firmware file says about itself (issue 8: "metadata comes from the file itself"):
 * - a Mongoose OS fw.zip: its manifest.json (name, platform, version, build_id), plus the app
 *   descriptor of its app part when that part is an ESP-IDF image;
 * - an ESP app image (byte 0 = 0xE9): chip id from the header, and the app descriptor
 *   (project, version, IDF version, build date/time, ELF SHA-256) when it has one ('esp-app'),
 *   else a bare 'bin' (ESP8266 / non-IDF images).
 * Anything else is refused as `image_invalid` (wrong magic). Files are read from disk piece by
 * piece: the head, or a zip's directory and the entries named above.
 */
import { open } from 'node:fs/promises';
import { HubError } from '../../shared/errors';
import type { FirmwareAppInfo, FirmwareFormat } from '../../shared/firmware';
import { elfIdent } from './elf-identity';
import { APP_HEAD_BYTES, parseAppDescriptor, parseEspImageHeader } from './esp-image';
import { manifestBase, readFwZipManifest } from './fw-zip';
import { fileSource, unzipSafe, type ZipLimits } from './safe-unzip';
import { looksLikeZip } from './zip-directory';

export interface FirmwareFacts {
  format: FirmwareFormat;
  name: string;
  version: string;
  platform: string;
  build_id: string;
  chip_id?: number;
  app?: FirmwareAppInfo;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `__DATE__` "Dec  5 2026" + `__TIME__` "12:00:00" -> "20261205-120000": the form the Arduino
 * mDash library reports as `fw_id` (PROTOCOL.md 6). "" when either does not parse.
 */
export function appBuildId(date: string, time: string): string {
  const d = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{4})$/.exec(date.trim());
  const t = /^(\d{2}):(\d{2}):(\d{2})$/.exec(time.trim());
  const month = d ? MONTHS.indexOf(d[1] ?? '') + 1 : 0;
  if (!d || !t || month === 0) return '';
  const two = (s: string | number): string => String(s).padStart(2, '0');
  return `${d[3]}${two(month)}${two(d[2] ?? '')}-${t[1]}${t[2]}${t[3]}`;
}

function appInfo(image: Uint8Array): FirmwareAppInfo | undefined {
  const d = parseAppDescriptor(image);
  if (!d) return undefined;
  return {
    project: d.projectName,
    version: d.version,
    idf: d.idfVersion,
    date: d.date,
    time: d.time,
    elf_sha256: d.elfSha256,
  };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Facts from the first bytes of an ESP app image. Pure. */
export function espImageFacts(head: Uint8Array, fileName: string): FirmwareFacts | null {
  const header = parseEspImageHeader(head);
  if (!header) return null;
  const app = appInfo(head);
  const base = fileName.replace(/\.[^.]*$/, '') || 'firmware';
  return {
    format: app ? 'esp-app' : 'bin',
    name: app?.project || base,
    version: app?.version ?? '',
    platform: header.chip ?? '',
    build_id: app ? appBuildId(app.date, app.time) : '',
    chip_id: header.chipId,
    ...(app && { app }),
  };
}

/** Reads a stored file's facts. Throws `image_invalid` (or `zip_bomb`) for what is no firmware. */
export async function inspectFirmwareFile(
  path: string,
  fileName: string,
  limits: ZipLimits,
): Promise<FirmwareFacts> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, APP_HEAD_BYTES));
    await handle.read(head, 0, head.length, 0);
    if (looksLikeZip(head)) {
      const src = fileSource(handle, size);
      const { manifest, entry } = await readFwZipManifest(src, { limits });
      const facts: FirmwareFacts = {
        format: 'fw.zip',
        name: manifest.name ?? (fileName.replace(/\.zip$/i, '') || 'firmware'),
        version: manifest.version ?? '',
        platform: manifest.platform,
        build_id: manifest.build_id ?? '',
      };
      // An ESP-IDF based app part carries a descriptor: the ELF link works for fw.zip too.
      const appPart = Object.values(manifest.parts).find((p) => p.type === 'app' && p.src);
      if (appPart?.src !== undefined) {
        const want = manifestBase(entry) + appPart.src;
        const parts = await unzipSafe(src, { limits, filter: (e) => e.name === want });
        const app = parts.get(want);
        const info = app ? appInfo(app) : undefined;
        const header = app ? parseEspImageHeader(app) : null;
        if (header) facts.chip_id = header.chipId;
        if (info) facts.app = info;
      }
      return facts;
    }
    const esp = espImageFacts(head, fileName);
    if (esp) return esp;
    if (elfIdent(head)) {
      throw new HubError(
        'image_invalid',
        `${fileName} is an ELF file: upload the image (.bin or fw.zip) as 'file' and the ELF as 'elf'`,
      );
    }
    throw new HubError(
      'image_invalid',
      `${fileName} is not a firmware image: it starts with ${hex(head.subarray(0, 4)) || 'nothing'}, ` +
        'expected a Mongoose OS fw.zip (PK..) or an ESP app image (e9..)',
    );
  } finally {
    await handle.close();
  }
}
