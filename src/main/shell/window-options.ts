/**
 * The dashboard window's options (pure). The renderer is a web page served by the hub over plain
 * HTTP on the LAN, so it gets no Node at all: context isolation, the Chromium sandbox, web security
 * on, and only the preload bridge (src/shared/desktop-bridge.ts) as its way out (DESIGN.md "One API
 * surface"; Electron security checklist items 2-4, 6, 12).
 */
import { isAbsolute } from 'node:path';
import type { BrowserWindowConstructorOptions } from 'electron';

export interface WindowOptionsInput {
  /** Absolute path of the built preload script (out/preload/index.cjs). */
  preloadPath: string;
  /** Window icon (Linux/Windows); macOS uses the bundle icon. */
  iconPath?: string;
  title?: string;
}

export const DEFAULT_WINDOW_SIZE = { width: 1280, height: 820, minWidth: 760, minHeight: 480 };

export function windowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  // A relative preload path resolves against the process cwd, which differs between `npm start`,
  // a packaged app and a desktop launcher: refuse it here rather than load nothing silently.
  if (!isAbsolute(input.preloadPath)) {
    throw new Error(`preload path must be absolute: ${input.preloadPath}`);
  }
  return {
    ...DEFAULT_WINDOW_SIZE,
    title: input.title ?? 'Fleetbench',
    // Shown on 'ready-to-show' so the user never sees an empty white frame.
    show: false,
    backgroundColor: '#f6f7f9',
    ...(input.iconPath !== undefined ? { icon: input.iconPath } : {}),
    webPreferences: {
      preload: input.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}
