/**
 * `<dataDir>/settings.json` (issue 12): typed, written atomically with mode 0600, unknown keys
 * kept, and a corrupt or wrongly shaped file read as defaults with a warning, never a throw.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { LanSettingsPatch } from '../../../src/shared/lan';
import type { LanSettingsPatchBody } from '../../../src/shared/lan-schemas';
import {
  SETTINGS_FILE,
  readSettings,
  saveLanSettings,
  writeSettings,
} from '../../../src/main/store/settings-file';

const dir = (): string => mkdtempSync(join(tmpdir(), 'fb-settings-'));

describe('settings.json', () => {
  it('is named settings.json (backups include it by this name)', () => {
    expect(SETTINGS_FILE).toBe('settings.json');
  });

  it('reads as empty settings when absent, without a warning', () => {
    expect(readSettings(dir())).toEqual({ settings: {}, warning: null });
  });

  it('saves LAN settings merged into what is there, mode 0600, no temp file left', () => {
    const d = dir();
    writeFileSync(
      join(d, SETTINGS_FILE),
      JSON.stringify({ future: { x: 1 }, lan: { dns_port: 5353 } }),
    );
    const saved = saveLanSettings(d, { enabled: true, names: ['a.lan'] });
    expect(saved).toEqual({ dns_port: 5353, enabled: true, names: ['a.lan'] });
    expect(JSON.parse(readFileSync(join(d, SETTINGS_FILE), 'utf8'))).toEqual({
      future: { x: 1 },
      lan: { dns_port: 5353, enabled: true, names: ['a.lan'] },
    });
    expect(statSync(join(d, SETTINGS_FILE)).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual([SETTINGS_FILE]);
    expect(readSettings(d).settings.lan?.enabled).toBe(true);
  });

  it('reads a file that is not JSON, or of the wrong shape, as defaults with a warning', () => {
    const d = dir();
    for (const text of ['{"lan":', '[]', '"x"', '{"lan":{"sntp_port":0}}', '{"lan":{"bogus":1}}']) {
      writeFileSync(join(d, SETTINGS_FILE), text);
      const r = readSettings(d);
      expect(r.settings, text).toEqual({});
      expect(r.warning, text).toMatch(/using defaults/);
    }
    // Saving over a corrupt file replaces it with a good one.
    writeFileSync(join(d, SETTINGS_FILE), '{"lan":');
    saveLanSettings(d, { enabled: false });
    expect(readSettings(d)).toEqual({ settings: { lan: { enabled: false } }, warning: null });
  });

  it('writes through a temp file and rename (an unwritable dir throws, leaves nothing)', () => {
    expect(() => writeSettings(join(dir(), 'missing', 'deeper'), {})).toThrow();
  });

  it('has the shape of src/shared/lan.ts LanSettingsPatch', () => {
    expectTypeOf<LanSettingsPatchBody>().toMatchTypeOf<LanSettingsPatch>();
    expectTypeOf<Required<LanSettingsPatch>>().toMatchTypeOf<Required<LanSettingsPatchBody>>();
  });
});
