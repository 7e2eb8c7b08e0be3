/**
 * `<dataDir>/settings.json`: what the dashboard's settings save (issue 12: the LAN services), a
 * typed JSON file. Written atomically (a temp file in the same dir, fsync, rename) with mode 0600,
 * so a crash mid-write leaves the old file or the new one, never half of one. A file that is not
 * JSON or does not fit the schema is never fatal: the hub starts on the defaults and says why
 * (issue 7's rule that nothing on disk stops a start). Backups include this file by its name.
 *
 * Top-level keys this version does not know are kept on write, so a newer hub's settings survive
 * a downgrade-and-save.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Type from 'typebox';
import { LanSettingsPatchSchema, type LanSettingsPatchBody } from '../../shared/lan-schemas';
import { firstProblem } from '../validate';
import { writeFileAtomic } from './data-dir';

export const SETTINGS_FILE = 'settings.json';

export const SettingsFileSchema = Type.Object(
  { lan: Type.Optional(LanSettingsPatchSchema) },
  { additionalProperties: true },
);
export type SettingsDoc = Type.Static<typeof SettingsFileSchema>;

export interface SettingsRead {
  settings: SettingsDoc;
  /** Why the file was not used (not JSON, wrong shape, unreadable); null when it was, or absent. */
  warning: string | null;
}

export function settingsPath(dataDir: string): string {
  return join(dataDir, SETTINGS_FILE);
}

export function readSettings(dataDir: string): SettingsRead {
  const path = settingsPath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { settings: {}, warning: null };
    return { settings: {}, warning: `${path} cannot be read (${errText(err)}): using defaults` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      settings: {},
      warning: `${path} is not valid JSON (${errText(err)}): using defaults until settings are saved again`,
    };
  }
  const problem = firstProblem(SettingsFileSchema, value);
  if (problem !== null) {
    return {
      settings: {},
      warning: `${path} does not fit its schema (${problem}): using defaults until settings are saved again`,
    };
  }
  return { settings: value as SettingsDoc, warning: null };
}

/** Replaces the file atomically (mode 0600). */
export function writeSettings(dataDir: string, doc: SettingsDoc): void {
  writeFileAtomic(settingsPath(dataDir), `${JSON.stringify(doc, null, 2)}\n`);
}

/**
 * Merges `patch` into the saved LAN settings and writes the file; returns the saved LAN settings.
 * A corrupt file is replaced (its other keys could not be read anyway).
 */
export function saveLanSettings(
  dataDir: string,
  patch: LanSettingsPatchBody,
): LanSettingsPatchBody {
  const { settings } = readSettings(dataDir);
  const lan = { ...settings.lan, ...patch };
  writeSettings(dataDir, { ...settings, lan });
  return lan;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
