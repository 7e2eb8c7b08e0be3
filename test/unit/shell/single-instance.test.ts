import { describe, expect, it } from 'vitest';
import {
  acquireSingleInstance,
  focusWindow,
  type FocusableWindow,
  type SingleInstanceApp,
} from '../../../src/main/shell/single-instance';

class FakeApp implements SingleInstanceApp {
  quits = 0;
  listeners: (() => void)[] = [];
  constructor(private readonly lock: boolean) {}
  requestSingleInstanceLock(): boolean {
    return this.lock;
  }
  quit(): void {
    this.quits++;
  }
  on(_event: 'second-instance', listener: () => void): this {
    this.listeners.push(listener);
    return this;
  }
}

class FakeWindow implements FocusableWindow {
  log: string[] = [];
  constructor(
    private readonly minimized = false,
    private readonly destroyed = false,
  ) {}
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.log.push('restore');
  }
  show(): void {
    this.log.push('show');
  }
  focus(): void {
    this.log.push('focus');
  }
}

describe('single instance', () => {
  it('quits the second copy', () => {
    const app = new FakeApp(false);
    expect(acquireSingleInstance(app, () => null)).toBe(false);
    expect(app.quits).toBe(1);
    expect(app.listeners).toEqual([]);
  });

  it('brings the first copy forward on a second launch, or reopens its window', () => {
    const app = new FakeApp(true);
    const win = new FakeWindow(true);
    let current: FakeWindow | null = win;
    let reopened = 0;
    expect(
      acquireSingleInstance(
        app,
        () => current,
        () => reopened++,
      ),
    ).toBe(true);
    app.listeners[0]?.();
    expect(win.log).toEqual(['restore', 'show', 'focus']);
    current = null;
    app.listeners[0]?.();
    expect(reopened).toBe(1);
    expect(app.quits).toBe(0);
  });

  it('does not touch destroyed windows', () => {
    const w = new FakeWindow(false, true);
    expect(focusWindow(w)).toBe(false);
    expect(w.log).toEqual([]);
  });
});
