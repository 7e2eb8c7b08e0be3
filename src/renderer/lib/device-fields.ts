/** Values the dashboard derives from a device object (PROTOCOL.md 1 step 3, 3, 4). */
import type { DeviceObject, Json } from '../../shared/types';

function child(value: Json | undefined, key: string): Json | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value[key];
}

/** `shadow.state.reported.ota.fw_version`: what Sys.GetInfo reported at the last connect. */
export function fwVersion(device: DeviceObject): string {
  const v = child(child(device.shadow?.state?.reported, 'ota'), 'fw_version');
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

/** The label shown for a device: its name, else its id. */
export function displayName(device: DeviceObject): string {
  return device.name !== '' ? device.name : device.id;
}

/** The WebSocket URL firmware connects to (PROTOCOL.md 1), derived from the dashboard's origin. */
export function deviceUrlFor(origin: string): string {
  const u = new URL(origin);
  const scheme = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${u.host}/api/v2/rpc`;
}

/** True when a URL names this machine only, so a device on the LAN could not use it. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}
