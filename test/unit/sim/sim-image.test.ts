import { createHash } from 'node:crypto';
import { zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { espAppImage } from '../../../src/main/sim/sim-firmware-files';
import {
  APP_HEAD_BYTES,
  FW_ID_HEX_CHARS,
  identifyAppImage,
  identifyImage,
} from '../../../src/main/sim/sim-image';

const sha = (b: Uint8Array): string =>
  createHash('sha256').update(b).digest('hex').slice(0, FW_ID_HEX_CHARS);

/** A minimal ESP-IDF app image: header, segment header, esp_app_desc_t. */
function espApp(version: string, project: string): Buffer {
  const b = Buffer.alloc(512);
  b[0] = 0xe9;
  b[1] = 1; // one segment
  b.writeUInt32LE(0xabcd5432, 32);
  b.write(version, 48, 'utf8');
  b.write(project, 80, 'utf8');
  return b;
}

describe('identifyImage', () => {
  it('reads version, build_id and name from a fw.zip manifest (nested like mos builds)', () => {
    const manifest = {
      name: 'blinky',
      platform: 'esp32',
      version: '2.1.0',
      build_id: '20250102-030405',
    };
    const zip = zipSync({
      'blinky-esp32/manifest.json': strToU8(JSON.stringify(manifest)),
      'blinky-esp32/blinky.bin': new Uint8Array(64),
    });
    expect(identifyImage(zip)).toEqual({
      kind: 'fw-zip',
      fwVersion: '2.1.0',
      fwId: '20250102-030405',
      app: 'blinky',
    });
  });

  it('falls back to the hash for a zip manifest without version fields', () => {
    const zip = zipSync({ 'manifest.json': strToU8('{"name":"x"}') });
    expect(identifyImage(zip)).toMatchObject({
      kind: 'fw-zip',
      fwId: sha(zip),
      fwVersion: sha(zip),
    });
  });

  it('treats a zip without a manifest, a corrupt zip and a bad manifest as raw images', () => {
    const noManifest = zipSync({ 'a.bin': new Uint8Array(8) });
    const corrupt = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(40, 7)]);
    const badJson = zipSync({ 'manifest.json': strToU8('{nope') });
    const wrongTypes = zipSync({ 'manifest.json': strToU8('{"version":3}') });
    for (const img of [noManifest, corrupt, badJson, wrongTypes]) {
      expect(identifyImage(img)).toEqual({ kind: 'raw', fwId: sha(img), fwVersion: sha(img) });
    }
  });

  it('reads the ESP-IDF app descriptor of an Arduino/ESP-IDF .bin', () => {
    const img = espApp('v3.4.5', 'thermo');
    expect(identifyImage(img)).toEqual({
      kind: 'esp-app',
      fwVersion: 'v3.4.5',
      fwId: sha(img),
      app: 'thermo',
    });
  });

  it('uses the sha256 prefix of any other image, so different bytes give different ids', () => {
    const a = Buffer.from('image-a');
    const b = Buffer.from('image-b');
    expect(identifyImage(a).fwId).toBe(sha(a));
    expect(identifyImage(a).fwId).not.toBe(identifyImage(b).fwId);
    expect(identifyImage(a).fwId).toHaveLength(FW_ID_HEX_CHARS);
  });
});

describe('identifyAppImage (the Arduino mDash library)', () => {
  const shaHex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

  it('fw_id is the build time from the app descriptor, as the library prints it', () => {
    const img = espAppImage({
      date: 'Dec  6 2026',
      time: '10:00:00',
      version: 'v2.0',
      project: 'thermo',
    });
    expect(identifyAppImage(img.subarray(0, APP_HEAD_BYTES), shaHex(img))).toEqual({
      kind: 'esp-app',
      fwId: '20261206-100000',
      app: 'thermo',
      appVersion: 'v2.0',
    });
    // Single-digit and two-digit days, every month name.
    const jan = espAppImage({ date: 'Jan 31 2027', time: '23:59:58' });
    expect(identifyAppImage(jan, shaHex(jan)).fwId).toBe('20270131-235958');
  });

  it('anything else, or a descriptor with an unreadable date, gets the sha256 prefix', () => {
    const raw = Buffer.from('not an esp image at all');
    expect(identifyAppImage(raw, shaHex(raw))).toEqual({ kind: 'raw', fwId: sha(raw) });
    const badDate = espAppImage({ date: 'someday' });
    expect(identifyAppImage(badDate, shaHex(badDate))).toEqual({
      kind: 'raw',
      fwId: sha(badDate),
    });
    const short = espAppImage().subarray(0, 100); // too short for a descriptor
    expect(identifyAppImage(short, shaHex(short)).kind).toBe('raw');
  });
});
