/**
 * The application menu as a template (pure). Edit roles matter more than they look: without an
 * Edit menu, macOS gives text fields no copy/paste shortcuts, and the dashboard's token and JSON
 * fields need them.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openDataFolder(): void;
  openDashboardInBrowser(): void;
  copyDashboardLink(): void;
  showAbout(): void;
}

export interface MenuInput {
  platform: NodeJS.Platform;
  appName: string;
  /** Developer tools only in development builds. */
  devTools: boolean;
  actions: MenuActions;
}

export function menuTemplate(input: MenuInput): MenuItemConstructorOptions[] {
  const { actions } = input;
  const isMac = input.platform === 'darwin';
  const hubItems: MenuItemConstructorOptions[] = [
    {
      id: 'open-in-browser',
      label: 'Open Dashboard in Browser',
      click: () => actions.openDashboardInBrowser(),
    },
    {
      id: 'copy-dashboard-link',
      label: 'Copy Dashboard Link',
      click: () => actions.copyDashboardLink(),
    },
    { type: 'separator' },
    { id: 'open-data-folder', label: 'Open Data Folder', click: () => actions.openDataFolder() },
  ];
  const view: MenuItemConstructorOptions[] = [
    { role: 'reload' },
    ...(input.devTools ? [{ role: 'toggleDevTools' } as const] : []),
    { type: 'separator' },
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  const about: MenuItemConstructorOptions = {
    id: 'about',
    label: `About ${input.appName}`,
    click: () => actions.showAbout(),
  };
  return [
    ...(isMac
      ? [
          {
            label: input.appName,
            submenu: [
              about,
              { type: 'separator' },
              { role: 'hide' },
              { role: 'hideOthers' },
              { role: 'unhide' },
              { type: 'separator' },
              { role: 'quit' },
            ],
          } satisfies MenuItemConstructorOptions,
        ]
      : []),
    {
      label: isMac ? 'Hub' : 'File',
      submenu: [
        ...hubItems,
        ...(isMac ? [] : [{ type: 'separator' as const }, { role: 'quit' as const }]),
      ],
    },
    { role: 'editMenu' },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
    { role: 'help', submenu: isMac ? [] : [about] },
  ];
}
