import { describe, expect, it } from 'vitest';
import { installQuitGuard, type QuitApp } from '../../../src/main/shell/quit-guard';

class FakeApp implements QuitApp {
  listener: ((e: { preventDefault(): void }) => void) | null = null;
  exited = false;
  on(_event: 'before-quit', listener: (e: { preventDefault(): void }) => void): this {
    this.listener = listener;
    return this;
  }
  /** Like Electron: quitting emits before-quit; the process ends unless it was prevented. */
  quit(): void {
    let prevented = false;
    this.listener?.({ preventDefault: () => (prevented = true) });
    if (!prevented) this.exited = true;
  }
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('installQuitGuard', () => {
  it('stops the hub before the app exits, once', async () => {
    const app = new FakeApp();
    let stops = 0;
    let release!: () => void;
    installQuitGuard(app, {
      stop: () => {
        stops++;
        return new Promise<void>((r) => (release = r));
      },
    });
    app.quit();
    app.quit(); // a second Cmd+Q while stopping
    expect(app.exited).toBe(false);
    expect(stops).toBe(1);
    release();
    await tick();
    expect(app.exited).toBe(true);
  });

  it('exits anyway when stopping fails or hangs', async () => {
    const failing = new FakeApp();
    const errors: unknown[] = [];
    installQuitGuard(failing, {
      stop: () => Promise.reject(new Error('disk full')),
      onError: (e) => errors.push(e),
    });
    failing.quit();
    await tick();
    expect(failing.exited).toBe(true);
    expect(String(errors[0])).toContain('disk full');

    const hanging = new FakeApp();
    installQuitGuard(hanging, {
      stop: () => new Promise(() => {}),
      timeoutMs: 30,
      onError: (e) => errors.push(e),
    });
    hanging.quit();
    await tick(60);
    expect(hanging.exited).toBe(true);
    expect(String(errors[1])).toContain('did not stop');
  });
});
