/**
 * Main-process side of the desktop bridge (src/shared/desktop-bridge.ts). Only what a browser
 * cannot do travels here (DESIGN.md "One API surface"): the hub URL and key, the app version,
 * opening the data folder, and the native file dialog for firmware images.
 *
 * Every handler checks that the caller is the dashboard page served by our hub (a frame that
 * navigated elsewhere gets nothing), validates its arguments with the contract's schemas
 * (DESIGN.md example 4) and answers with a `BridgeResult`: Electron would strip the code from a
 * thrown error, and the dashboard shows codes.
 */
import { basename } from 'node:path';
import type { TSchema } from 'typebox';
import { parseWith } from '../validate';
import { ERRORS, HubError } from '../../shared/errors';
import {
  BRIDGE_CHANNELS,
  DEFAULT_FIRMWARE_EXTENSIONS,
  NoArgs,
  OpenFirmwareArgs,
  type AppVersion,
  type BridgeChannel,
  type BridgeResult,
  type FirmwareFile,
  type HubInfo,
  type OpenFirmwareRequest,
} from '../../shared/desktop-bridge';

/** The part of an `IpcMainInvokeEvent` the handlers look at. */
export interface InvokeEventLike {
  senderFrame: { url: string } | null;
}

/** The part of Electron's `ipcMain` used here. */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>,
  ): void;
  removeHandler(channel: string): void;
}

export interface OpenDialogRequest {
  title: string;
  properties: ['openFile'];
  filters: { name: string; extensions: string[] }[];
}

export interface DesktopIpcDeps {
  ipcMain: IpcMainLike;
  /** True when a frame at this URL may use the bridge (the hub's dashboard origin). */
  isTrustedSender(url: string): boolean;
  hubInfo(): HubInfo;
  appVersion(): AppVersion;
  /** The hub's data directory, opened by `openDataFolder`. */
  dataDir: string;
  /** Electron's `shell.openPath`: resolves to '' on success, else an error message. */
  openPath(path: string): Promise<string>;
  showOpenDialog(request: OpenDialogRequest): Promise<{ canceled: boolean; filePaths: string[] }>;
  fileSize(path: string): Promise<number>;
  readFile(path: string): Promise<Uint8Array>;
  /** Largest firmware file handed to the renderer (config.ts `maxUploadBytes`). */
  maxFileBytes: number;
}

function failure(e: unknown): BridgeResult<never> {
  if (e instanceof HubError) return { ok: false, error: { code: e.code, message: e.message } };
  const message = e instanceof Error ? e.message : String(e);
  return { ok: false, error: { code: ERRORS.internal.code, message } };
}

/**
 * Registers one handler per bridge channel; returns a function that removes them all (used when
 * the hub stops, and by tests).
 */
export function registerDesktopIpc(deps: DesktopIpcDeps): () => void {
  const handlers: Record<BridgeChannel, { args: TSchema; run(args: unknown[]): Promise<unknown> }> =
    {
      [BRIDGE_CHANNELS.hubInfo]: { args: NoArgs, run: async () => deps.hubInfo() },
      [BRIDGE_CHANNELS.appVersion]: { args: NoArgs, run: async () => deps.appVersion() },
      [BRIDGE_CHANNELS.openDataFolder]: {
        args: NoArgs,
        run: async () => {
          const problem = await deps.openPath(deps.dataDir);
          if (problem !== '') throw new HubError('internal', `cannot open data folder: ${problem}`);
          return true;
        },
      },
      [BRIDGE_CHANNELS.openFirmwareFile]: {
        args: OpenFirmwareArgs,
        run: async (args) => openFirmwareFile(deps, args[0] as OpenFirmwareRequest | undefined),
      },
    };

  const channels = Object.keys(handlers) as BridgeChannel[];
  for (const channel of channels) {
    const handler = handlers[channel];
    deps.ipcMain.handle(channel, async (event, ...args) => {
      try {
        const url = event.senderFrame?.url ?? '';
        if (!deps.isTrustedSender(url)) {
          throw new HubError('forbidden', 'the desktop bridge is only for the hub dashboard');
        }
        parseWith(handler.args, args);
        return { ok: true, value: await handler.run(args) };
      } catch (e) {
        return failure(e);
      }
    });
  }
  return () => {
    for (const channel of channels) deps.ipcMain.removeHandler(channel);
  };
}

async function openFirmwareFile(
  deps: DesktopIpcDeps,
  request: OpenFirmwareRequest | undefined,
): Promise<FirmwareFile> {
  const extensions = request?.extensions ?? DEFAULT_FIRMWARE_EXTENSIONS;
  const picked = await deps.showOpenDialog({
    title: request?.title ?? 'Choose a firmware image',
    properties: ['openFile'],
    filters: [
      { name: 'Firmware images', extensions },
      { name: 'All files', extensions: ['*'] },
    ],
  });
  const path = picked.filePaths[0];
  if (picked.canceled || path === undefined) return { canceled: true };
  const size = await deps.fileSize(path);
  if (size > deps.maxFileBytes) {
    throw new HubError(
      'too_large',
      `${basename(path)} is ${size} bytes; the limit is ${deps.maxFileBytes} bytes`,
    );
  }
  const data = await deps.readFile(path);
  return { canceled: false, path, name: basename(path), size: data.byteLength, data };
}
