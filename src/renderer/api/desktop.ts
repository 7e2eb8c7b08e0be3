/**
 * Access to the Electron preload bridge (`window.fleetbench`, src/shared/desktop-bridge.ts) when
 * the dashboard runs inside the desktop app. In a plain browser there is none and every caller
 * falls back to web behaviour. Results are validated like any other input.
 */
import { Value } from 'typebox/value';
import {
  AppVersion,
  BRIDGE_GLOBAL,
  HubInfo,
  type BridgeResult,
  type DesktopBridge,
  type FirmwareFile,
  type OpenFirmwareRequest,
} from '../../shared/desktop-bridge';
import type { TSchema, Static } from 'typebox';
import { ApiError } from './api-error';

export interface DesktopClient {
  hubInfo(): Promise<HubInfo>;
  appVersion(): Promise<AppVersion>;
  openDataFolder(): Promise<void>;
  openFirmwareFile(request?: OpenFirmwareRequest): Promise<FirmwareFile>;
}

function isBridge(value: unknown): value is DesktopBridge {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return ['hubInfo', 'appVersion', 'openDataFolder', 'openFirmwareFile'].every(
    (k) => typeof v[k] === 'function',
  );
}

async function unwrap<T>(p: Promise<BridgeResult<T>>, schema?: TSchema): Promise<T> {
  const r: unknown = await p;
  if (r === null || typeof r !== 'object' || !('ok' in r)) {
    throw new ApiError(500, 0, 'the desktop bridge sent an unexpected answer');
  }
  const result = r as BridgeResult<T>;
  if (!result.ok) throw new ApiError(result.error.code, 0, result.error.message);
  if (schema && !Value.Check(schema, result.value)) {
    throw new ApiError(500, 0, 'the desktop bridge sent an unexpected answer');
  }
  return result.value;
}

/** The bridge found on `host` (normally `window`), or null in a browser. */
export function desktopClient(host: object): DesktopClient | null {
  const bridge: unknown = (host as Record<string, unknown>)[BRIDGE_GLOBAL];
  if (!isBridge(bridge)) return null;
  return {
    hubInfo: () => unwrap<Static<typeof HubInfo>>(bridge.hubInfo(), HubInfo),
    appVersion: () => unwrap<Static<typeof AppVersion>>(bridge.appVersion(), AppVersion),
    openDataFolder: async () => {
      await unwrap(bridge.openDataFolder());
    },
    openFirmwareFile: (request) => unwrap(bridge.openFirmwareFile(request)),
  };
}
