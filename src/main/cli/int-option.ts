/**
 * Integer flag values (`--port 8009`, `--timeout 3000`): one parser for every command, so the
 * same mistake reads the same everywhere. Loads nothing else: `fleetbench hubs` and `doctor`
 * must start fast, and serve-command.ts loads the whole hub.
 */
import { CliError } from './cli-errors';

/** A bad value is a usage error (exit 2), like a flag commander itself does not know. */
export const USAGE_EXIT_CODE = 2;

/** `text` as an integer in [min, max]; otherwise `invalid <flag> '<text>': use <min>-<max>`. */
export function parseIntOption(text: string, flag: string, min: number, max: number): number {
  // Number('') and Number(' ') are 0: an empty value is a mistake, not port 0.
  const n = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(`invalid ${flag} '${text}': use ${min}-${max}`, USAGE_EXIT_CODE);
  }
  return n;
}

/** A TCP/UDP port; 0 asks the system for any free one. */
export function parsePortOption(text: string, flag: string): number {
  return parseIntOption(text, flag, 0, 65535);
}
