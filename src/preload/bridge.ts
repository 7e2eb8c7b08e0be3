/**
 * Builds `window.fleetbench` from an ipcRenderer-like object (src/shared/desktop-bridge.ts is the
 * contract). Kept apart from index.ts so it can be tested without Electron. Each method sends only
 * its own channel with its own arguments: the page never gets a generic `invoke`, so it cannot
 * reach any other IPC channel (Electron security checklist 17).
 */
import {
  BRIDGE_CHANNELS,
  type BridgeResult,
  type DesktopBridge,
  type OpenFirmwareRequest,
} from '../shared/desktop-bridge';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
}

/** A failed invoke (no handler yet, main process busy quitting) still resolves to a coded result. */
async function call<T>(
  ipc: IpcRendererLike,
  channel: string,
  args: unknown[],
): Promise<BridgeResult<T>> {
  try {
    return (await ipc.invoke(channel, ...args)) as BridgeResult<T>;
  } catch (e) {
    return {
      ok: false,
      error: { code: 500, message: e instanceof Error ? e.message : 'desktop bridge call failed' },
    };
  }
}

export function createBridge(ipc: IpcRendererLike): DesktopBridge {
  return Object.freeze({
    hubInfo: () => call(ipc, BRIDGE_CHANNELS.hubInfo, []),
    appVersion: () => call(ipc, BRIDGE_CHANNELS.appVersion, []),
    openDataFolder: () => call(ipc, BRIDGE_CHANNELS.openDataFolder, []),
    openFirmwareFile: (request?: OpenFirmwareRequest) =>
      call(ipc, BRIDGE_CHANNELS.openFirmwareFile, request === undefined ? [] : [request]),
  }) as DesktopBridge;
}
