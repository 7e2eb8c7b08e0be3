/**
 * One Fleetbench per user session: the hub binds a fixed port (8009) and owns its SQLite files, so a
 * second copy could only fail or corrupt. A second launch instead brings the first one's window
 * to the front.
 */

export interface SingleInstanceApp {
  requestSingleInstanceLock(): boolean;
  quit(): void;
  on(event: 'second-instance', listener: () => void): unknown;
}

export interface FocusableWindow {
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
}

export function focusWindow(win: FocusableWindow | null): boolean {
  if (!win || win.isDestroyed()) return false;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
  return true;
}

/**
 * Takes the lock or quits. `onSecondInstance` runs in the first instance when another launch is
 * attempted (default: focus the current window, or `reopen` when there is none, e.g. on macOS
 * after the window was closed).
 */
export function acquireSingleInstance(
  app: SingleInstanceApp,
  currentWindow: () => FocusableWindow | null,
  reopen: () => void = () => {},
): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => {
    if (!focusWindow(currentWindow())) reopen();
  });
  return true;
}
