/**
 * Stop the hub before the process exits: devices get a clean close, SQLite checkpoints its WAL and
 * pending notifications are stored. Electron does not await async 'before-quit' listeners, so the
 * first quit is postponed, the hub stopped (bounded by a timeout so a stuck socket cannot keep the
 * app alive), and quit is called again.
 */

export interface QuitApp {
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown;
  quit(): void;
}

export interface QuitGuardOptions {
  stop(): Promise<void>;
  timeoutMs?: number;
  onError?(error: unknown): void;
}

export const DEFAULT_STOP_TIMEOUT_MS = 5000;

export function installQuitGuard(app: QuitApp, options: QuitGuardOptions): void {
  let state: 'running' | 'stopping' | 'stopped' = 'running';
  app.on('before-quit', (event) => {
    if (state === 'stopped') return;
    event.preventDefault();
    if (state === 'stopping') return;
    state = 'stopping';
    const timeoutMs = options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`hub did not stop within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    Promise.race([options.stop(), timeout])
      .catch((e: unknown) => options.onError?.(e))
      .finally(() => {
        clearTimeout(timer);
        state = 'stopped';
        app.quit();
      });
  });
}
