import { describe, expect, it } from 'vitest';
import { appBuildId, espImageFacts } from '../../../src/main/firmware/firmware-inspect';
import { elfIdent, elfShaMatches } from '../../../src/main/firmware/elf-identity';
import { buildElf32 } from '../../support/elf32-writer';
import { espAppImage } from './craft-zip';

describe('appBuildId', () => {
  it('turns __DATE__ and __TIME__ into the fw_id form of the Arduino mDash library', () => {
    expect(appBuildId('Dec  5 2026', '12:00:00')).toBe('20261205-120000');
    expect(appBuildId('Jan 31 2025', '09:08:07')).toBe('20250131-090807');
    expect(appBuildId('Foo  5 2026', '12:00:00')).toBe('');
    expect(appBuildId('', '')).toBe('');
  });
});

describe('espImageFacts', () => {
  it('names an app by its descriptor and a bare image by its file', () => {
    expect(
      espImageFacts(espAppImage({ chipId: 5, project: 'p', version: '2' }), 'x.bin'),
    ).toMatchObject({
      format: 'esp-app',
      name: 'p',
      version: '2',
      platform: 'esp32c3',
      build_id: '20261205-120000',
      chip_id: 5,
    });
    const bare = espAppImage({ chipId: 0 });
    bare[32] = 0; // no descriptor magic
    expect(espImageFacts(bare, 'old-app.bin')).toEqual({
      format: 'bin',
      name: 'old-app',
      version: '',
      platform: 'esp32',
      build_id: '',
      chip_id: 0,
    });
    expect(espImageFacts(new Uint8Array(300), 'x.bin')).toBeNull();
  });
});

describe('ELF identity', () => {
  it('reads the ELF identification of ESP32 firmware', () => {
    const elf = buildElf32({ symbols: [{ name: 'f', value: 0x400d0000, size: 4 }] });
    expect(elfIdent(elf)).toMatchObject({ bits: 32, littleEndian: true, esp: true });
    expect(elfIdent(new Uint8Array(64))).toBeNull();
  });

  it('matches hashes on their common prefix of at least 8 hex digits', () => {
    const full = 'ab'.repeat(32);
    expect(elfShaMatches(full, full)).toBe(true);
    expect(elfShaMatches(full, 'ABABABAB')).toBe(true);
    expect(elfShaMatches(full, 'abababa')).toBe(false);
    expect(elfShaMatches(full, 'abababac')).toBe(false);
  });
});
