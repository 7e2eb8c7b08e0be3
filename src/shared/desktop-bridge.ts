/**
 * The desktop bridge contract: the only things the dashboard asks of Electron (DESIGN.md "One API
 * surface"). Fleet data never travels here; it goes through the REST API and the notify stream like
 * in any browser. Preload (src/preload) exposes exactly these calls as `window.fleetbench`, and
 * src/main/shell/desktop-ipc.ts answers them after validating every argument with the schemas below
 * (DESIGN.md example 4: IPC input is `unknown` until a schema accepts it).
 *
 * No Node, DOM or Electron imports: main, preload and renderer all bundle this file.
 */
import Type from 'typebox';

/** IPC channel names, one per bridge call. */
export const BRIDGE_CHANNELS = {
  hubInfo: 'fleetbench:hub-info',
  appVersion: 'fleetbench:app-version',
  openDataFolder: 'fleetbench:open-data-folder',
  openFirmwareFile: 'fleetbench:open-firmware-file',
} as const;

export type BridgeChannel = (typeof BRIDGE_CHANNELS)[keyof typeof BRIDGE_CHANNELS];

/** The name the preload script gives the bridge on `window`. */
export const BRIDGE_GLOBAL = 'fleetbench';

/** Calls without arguments must receive exactly none (a renderer passing extras is a bug or worse). */
export const NoArgs = Type.Tuple([]);

/** File extensions the firmware dialog may filter on: short, lower-case, no dots or separators. */
export const FirmwareExtension = Type.String({ pattern: '^[a-z0-9]{1,8}$' });

export const OpenFirmwareRequest = Type.Object(
  {
    /** Dialog title; plain text. */
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    /** Extensions to offer; defaults to the images the flasher and OTA accept. */
    extensions: Type.Optional(Type.Array(FirmwareExtension, { minItems: 1, maxItems: 12 })),
  },
  { additionalProperties: false },
);
export type OpenFirmwareRequest = Type.Static<typeof OpenFirmwareRequest>;

/** Argument list of `openFirmwareFile`: zero or one request object. */
export const OpenFirmwareArgs = Type.Union([Type.Tuple([]), Type.Tuple([OpenFirmwareRequest])]);

/** Where the hub listens and the key that opens its management API (PROTOCOL.md 4). */
export const HubInfo = Type.Object({
  /** Base HTTP URL of the hub, e.g. `http://127.0.0.1:8009`. */
  url: Type.String({ minLength: 1 }),
  /** The dashboard page URL (without any key fragment). */
  dashboard: Type.String({ minLength: 1 }),
  /** The WebSocket URL devices use (PROTOCOL.md 1), with a LAN address when one is known. */
  deviceUrl: Type.String({ minLength: 1 }),
  /** The master API key. */
  key: Type.String({ minLength: 1 }),
});
export type HubInfo = Type.Static<typeof HubInfo>;

export const AppVersion = Type.Object({
  app: Type.String(),
  electron: Type.String(),
  chrome: Type.String(),
  node: Type.String(),
});
export type AppVersion = Type.Static<typeof AppVersion>;

export const FirmwareFile = Type.Union([
  Type.Object({ canceled: Type.Literal(true) }),
  Type.Object({
    canceled: Type.Literal(false),
    /** Absolute path on the hub machine (the desktop app is the hub machine). */
    path: Type.String(),
    /** Base name, for display and as the upload's file name. */
    name: Type.String(),
    size: Type.Integer({ minimum: 0 }),
    /** The file's bytes, so the renderer can upload them through the same REST call a browser uses. */
    data: Type.Unsafe<Uint8Array>({}),
  }),
]);
export type FirmwareFile = Type.Static<typeof FirmwareFile>;

/** Errors cross IPC as values: Electron keeps only the message of a thrown error, not its code. */
export interface BridgeError {
  code: number;
  message: string;
}
export type BridgeResult<T> = { ok: true; value: T } | { ok: false; error: BridgeError };

/** What `window.fleetbench` offers. Every call resolves; failures come back as `ok: false`. */
export interface DesktopBridge {
  hubInfo(): Promise<BridgeResult<HubInfo>>;
  appVersion(): Promise<BridgeResult<AppVersion>>;
  openDataFolder(): Promise<BridgeResult<true>>;
  openFirmwareFile(request?: OpenFirmwareRequest): Promise<BridgeResult<FirmwareFile>>;
}

/** Default extensions of the firmware dialog: ESP `.bin`, STM32 `.hex`/`.bin`, Mongoose OS `fw.zip`, ELF. */
export const DEFAULT_FIRMWARE_EXTENSIONS = ['bin', 'hex', 'zip', 'elf'];
