/**
 * Electron entry (DESIGN.md layout): take the single-instance lock, start the hub, open the
 * dashboard window on the hub's own URL, stop the hub on quit. Everything with a decision in it
 * lives in src/main/shell/ as a pure or injected function with unit tests; this file only wires
 * Electron's real objects to them. Only this file and shell/ import 'electron'.
 */
import { app, BrowserWindow, clipboard, dialog, ipcMain, Menu, session, shell } from 'electron';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS, DEFAULT_PORT, DEFAULT_TLS_PORT } from './config';
import { createHub } from './hub';
import { registerDesktopIpc } from './shell/desktop-ipc';
import { menuTemplate } from './shell/menu';
import { installNavigationGuard, normalizeOrigins } from './shell/navigation-guard';
import { installQuitGuard } from './shell/quit-guard';
import { hardenSession, originOf } from './shell/session-hardening';
import { acquireSingleInstance, focusWindow } from './shell/single-instance';
import { windowOptions } from './shell/window-options';

// Bundled to out/main/index.js: the renderer and preload builds sit next to it.
const here = dirname(fileURLToPath(import.meta.url));
const rendererDir = join(here, '../renderer');
const preloadPath = join(here, '../preload/index.cjs');
const iconPath = join(here, '../../resources/icon.png');

let mainWindow: BrowserWindow | null = null;
let openWindow: () => void = () => {};

function withoutHash(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return u.toString();
}

async function boot(): Promise<void> {
  const dataDir = join(app.getPath('userData'), 'hub');
  const hub = createHub({
    dataDir,
    rendererDir,
    host: '0.0.0.0',
    port: DEFAULT_PORT,
    tlsPort: DEFAULT_TLS_PORT,
    // Like `fleetbench serve`: the hub is found on the LAN as fleetbench.local (issue 12).
    discovery: { mdns: true },
    // Like `fleetbench serve` too: warnings and errors only. At `info` every REST request is
    // logged, which also keeps plain RPC calls off their fast path (api/rpc-fast-path.ts).
    logLevel: 'warn',
  });
  try {
    await hub.start();
  } catch (e) {
    // Typically port 8009 is taken (a headless `fleetbench serve` is already running).
    dialog.showErrorBox(
      'Fleetbench could not start its hub',
      `${e instanceof Error ? e.message : String(e)}\n\nIs another Fleetbench or \`fleetbench serve\` using port ${DEFAULT_PORT}?`,
    );
    app.exit(1);
    return;
  }
  installQuitGuard(app, {
    stop: () => hub.stop(),
    onError: (e) => console.error('[fleetbench] hub stop:', e),
  });

  const urls = hub.urls();
  const key = hub.masterKey();
  const currentKey = (): string => {
    try {
      return hub.masterKey();
    } catch {
      return key; // restarting right now
    }
  };
  const dashboard = withoutHash(urls.dashboard);
  // `electron-vite dev` serves the renderer itself (with HMR) and proxies /api to the hub.
  const devUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
  const pageUrl = devUrl ?? dashboard;
  const hubOrigins = normalizeOrigins([dashboard]);
  const pageOrigins = normalizeOrigins([dashboard, ...(devUrl ? [devUrl] : [])]);

  hardenSession(session.defaultSession, hubOrigins);

  registerDesktopIpc({
    ipcMain,
    isTrustedSender: (url) => {
      const origin = originOf(url);
      return origin !== null && pageOrigins.includes(origin);
    },
    // Read at each call: a restore through the dashboard restarts the hub on the backup's key.
    hubInfo: () => ({ url: urls.http, dashboard, deviceUrl: urls.device, key: currentKey() }),
    appVersion: () => ({
      app: app.getVersion(),
      electron: process.versions.electron ?? '',
      chrome: process.versions.chrome ?? '',
      node: process.versions.node,
    }),
    dataDir,
    openPath: (p) => shell.openPath(p),
    showOpenDialog: (request) =>
      mainWindow ? dialog.showOpenDialog(mainWindow, request) : dialog.showOpenDialog(request),
    fileSize: async (p) => (await stat(p)).size,
    readFile: async (p) => new Uint8Array(await readFile(p)),
    maxFileBytes: DEFAULT_LIMITS.maxUploadBytes,
  });

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        platform: process.platform,
        appName: app.getName(),
        devTools: !app.isPackaged,
        actions: {
          openDataFolder: () => void shell.openPath(dataDir),
          // The browser gets the key in the fragment, like the link `fleetbench serve` prints.
          openDashboardInBrowser: () =>
            void shell.openExternal(`${dashboard}#key=${encodeURIComponent(key)}`),
          copyDashboardLink: () => clipboard.writeText(urls.dashboard.split('#')[0] ?? dashboard),
          showAbout: () =>
            void dialog.showMessageBox({
              type: 'info',
              title: `About ${app.getName()}`,
              message: `${app.getName()} ${app.getVersion()}`,
              detail: `Hub: ${urls.http}\nDevices connect to: ${urls.device}\nData: ${dataDir}\nElectron ${process.versions.electron ?? ''}`,
            }),
        },
      }),
    ),
  );

  openWindow = () => {
    const win = new BrowserWindow(windowOptions({ preloadPath, iconPath, title: app.getName() }));
    mainWindow = win;
    installNavigationGuard(win.webContents, {
      allowedOrigins: pageOrigins,
      openExternal: (url) => void shell.openExternal(url),
      onBlocked: (target, decision) =>
        console.warn('[fleetbench] navigation', decision.action, target),
    });
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null;
    });
    void win.loadURL(pageUrl);
  };
  openWindow();
}

function main(): void {
  // Every renderer sandboxed, not just ours (Electron security checklist 4).
  app.enableSandbox();
  if (
    !acquireSingleInstance(
      app,
      () => mainWindow,
      () => openWindow(),
    )
  )
    return;
  app.on('window-all-closed', () => {
    // macOS apps stay in the Dock with the hub running; elsewhere closing the window quits.
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (!focusWindow(mainWindow)) openWindow();
  });
  app
    .whenReady()
    .then(boot)
    .catch((e: unknown) => {
      console.error('[fleetbench] startup failed:', e);
      app.exit(1);
    });
}

main();
