/**
 * Keys of `state.reported` that the hub owns (PROTOCOL.md 3 "Reserved"): `online` is the hub's
 * view of the device's session, `ota` the Sys.GetInfo result. Clients may not write either
 * through REST; a device may report its own `ota` but never `online` (issue 7 item 16).
 */
export const HUB_OWNED_REPORTED_KEYS = ['online', 'ota'] as const;
export type HubOwnedKey = (typeof HUB_OWNED_REPORTED_KEYS)[number];

/**
 * The first of `keys` that a shadow update (still unvalidated) would write under
 * `state.reported`, as a path, or null. A `null` for the whole `reported` clears it, and with it
 * the reserved keys, so that counts as writing the first of them.
 */
export function reservedKeyWritten(update: unknown, keys: readonly string[]): string | null {
  if (typeof update !== 'object' || update === null) return null;
  const state = (update as { state?: unknown }).state;
  if (typeof state !== 'object' || state === null || !('reported' in state)) return null;
  const reported = (state as { reported?: unknown }).reported;
  if (reported === null)
    return keys.length > 0 ? `state.reported (clears ${keys.join(', ')})` : null;
  if (typeof reported !== 'object' || Array.isArray(reported)) return null;
  for (const key of keys) {
    if (Object.prototype.hasOwnProperty.call(reported, key)) return `state.reported.${key}`;
  }
  return null;
}
