/**
 * The hub's id on the LAN: the `id` TXT value of its mDNS service, stable per data dir so a
 * browser (`fleetbench hubs`, the dashboard) can tell a hub that moved from a new one, and mark
 * itself. Random, not derived from the master key or the host name: it is broadcast to the LAN.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const HUB_ID_FILE = 'hub-id';
const ID_RE = /^[0-9a-f]{16}$/;

/** The id in `<dataDir>/hub-id`, or null when there is none (or it is not one). */
export function readHubId(dataDir: string): string | null {
  try {
    const text = readFileSync(join(dataDir, HUB_ID_FILE), 'utf8').trim();
    return ID_RE.test(text) ? text : null;
  } catch {
    return null;
  }
}

export function ensureHubId(dataDir: string): string {
  const existing = readHubId(dataDir);
  if (existing !== null) return existing;
  const id = randomBytes(8).toString('hex');
  writeFileSync(join(dataDir, HUB_ID_FILE), `${id}\n`, { mode: 0o600 });
  return id;
}
