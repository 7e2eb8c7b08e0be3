import { describe, expect, it } from 'vitest';
import { windowOptions } from '../../../src/main/shell/window-options';

describe('windowOptions', () => {
  it('isolates and sandboxes the renderer with only the preload bridge', () => {
    const o = windowOptions({
      preloadPath: '/app/out/preload/index.cjs',
      iconPath: '/app/icon.png',
    });
    expect(o.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(o.show).toBe(false);
    expect(o.icon).toBe('/app/icon.png');
  });

  it('refuses a relative preload path', () => {
    expect(() => windowOptions({ preloadPath: 'out/preload/index.cjs' })).toThrow(/absolute/);
  });
});
