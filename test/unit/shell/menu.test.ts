import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { menuTemplate, type MenuActions } from '../../../src/main/shell/menu';

function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flatten(i.submenu) : [])]);
}

function actions(log: string[]): MenuActions {
  return {
    openDataFolder: () => log.push('data'),
    openDashboardInBrowser: () => log.push('browser'),
    copyDashboardLink: () => log.push('copy'),
    showAbout: () => log.push('about'),
  };
}

describe('menuTemplate', () => {
  it('has an Edit menu (copy/paste in text fields) and wires the hub items', () => {
    const log: string[] = [];
    const items = flatten(
      menuTemplate({
        platform: 'linux',
        appName: 'Fleetbench',
        devTools: false,
        actions: actions(log),
      }),
    );
    expect(items.some((i) => i.role === 'editMenu')).toBe(true);
    expect(items.some((i) => i.role === 'quit')).toBe(true);
    expect(items.some((i) => i.role === 'toggleDevTools')).toBe(false);
    for (const id of ['open-in-browser', 'copy-dashboard-link', 'open-data-folder', 'about']) {
      const item = items.find((i) => i.id === id);
      (item?.click as (() => void) | undefined)?.();
    }
    expect(log).toEqual(['browser', 'copy', 'data', 'about']);
  });

  it('follows macOS conventions and offers dev tools in development', () => {
    const t = menuTemplate({
      platform: 'darwin',
      appName: 'Fleetbench',
      devTools: true,
      actions: actions([]),
    });
    expect(t[0]?.label).toBe('Fleetbench');
    const all = flatten(t);
    expect(all.filter((i) => i.role === 'quit')).toHaveLength(1);
    expect(all.some((i) => i.role === 'toggleDevTools')).toBe(true);
  });
});
