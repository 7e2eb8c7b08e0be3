import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  APP_DESC_OFFSET,
  imageChip,
  parseAppDescriptor,
  parseEspImageHeader,
} from '../../../src/main/firmware/esp-image';
import { espAppImage } from './craft-zip';

describe('ESP app image header', () => {
  it('reads the chip id from the extended header', () => {
    expect(parseEspImageHeader(espAppImage({ chipId: 9 }))).toEqual({
      segments: 4,
      entry: 0x40081234,
      chipId: 9,
      chip: 'esp32s3',
      hashAppended: true,
    });
    expect(imageChip(espAppImage({ chipId: 0 }))).toBe('esp32');
    expect(imageChip(espAppImage({ chipId: 5 }))).toBe('esp32c3');
    // An id we do not know yet is still reported as a number.
    expect(parseEspImageHeader(espAppImage({ chipId: 999 }))).toMatchObject({ chipId: 999 });
    expect(imageChip(espAppImage({ chipId: 999 }))).toBeUndefined();
  });

  it('refuses what is not an ESP image', () => {
    expect(parseEspImageHeader(new Uint8Array(64))).toBeNull();
    expect(parseEspImageHeader(Uint8Array.from([0xe9, 1, 2]))).toBeNull();
    const noSegments = espAppImage({});
    noSegments[1] = 0;
    expect(parseEspImageHeader(noSegments)).toBeNull();
    expect(imageChip(new Uint8Array(64))).toBeUndefined();
  });
});

describe('esp_app_desc_t', () => {
  const elfSha = createHash('sha256').update('the elf').digest();

  it('reads every field of a real-format descriptor', () => {
    const img = espAppImage({
      chipId: 9,
      version: 'v2.3.1-4-gdeadbee',
      project: 'thermostat',
      time: '09:30:15',
      date: 'Jan 12 2026',
      idf: 'v5.3.2-dirty',
      elfSha256: elfSha,
    });
    expect(parseAppDescriptor(img)).toEqual({
      secureVersion: 0,
      version: 'v2.3.1-4-gdeadbee',
      projectName: 'thermostat',
      time: '09:30:15',
      date: 'Jan 12 2026',
      idfVersion: 'v5.3.2-dirty',
      elfSha256: elfSha.toString('hex'),
    });
  });

  it('takes 31-character strings whole and stops at the NUL', () => {
    const long = 'x'.repeat(31);
    const d = parseAppDescriptor(espAppImage({ version: long, project: 'p' }));
    expect(d?.version).toBe(long);
    expect(d?.projectName).toBe('p');
  });

  it('is null without the 0xABCD5432 magic, for short files and for non-images', () => {
    const img = espAppImage({});
    img[APP_DESC_OFFSET] = 0;
    expect(parseAppDescriptor(img)).toBeNull();
    expect(parseAppDescriptor(espAppImage({}).subarray(0, 200))).toBeNull();
    const notImage = espAppImage({});
    notImage[0] = 0;
    expect(parseAppDescriptor(notImage)).toBeNull();
  });
});
