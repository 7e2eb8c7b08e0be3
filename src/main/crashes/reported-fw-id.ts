/** The `fw_id` a device reported in `Sys.GetInfo`, kept as `reported.ota` (PROTOCOL.md 2, 6). */
import type { DeviceService } from '../devices/device-service';
import { isJsonObject } from '../shadow/json-value';

export function reportedFwId(
  devices: Pick<DeviceService, 'shadowOf'>,
  id: string,
): string | undefined {
  let ota: unknown;
  try {
    ota = devices.shadowOf(id).state.reported.ota;
  } catch {
    return undefined; // deleted meanwhile
  }
  if (!isJsonObject(ota)) return undefined;
  const fwId = ota.fw_id;
  return typeof fwId === 'string' && fwId !== '' ? fwId : undefined;
}
