import { describe, expect, it } from 'vitest';
import {
  decideNavigation,
  decideWindowOpen,
  installNavigationGuard,
  normalizeOrigins,
  type GuardedContents,
} from '../../../src/main/shell/navigation-guard';

const HUB = ['http://127.0.0.1:8009'];

describe('decideNavigation', () => {
  it('allows the hub origin only', () => {
    expect(decideNavigation('http://127.0.0.1:8009/#/devices/x', HUB)).toEqual({ action: 'allow' });
    expect(decideNavigation('http://127.0.0.1:8010/', HUB).action).toBe('external');
    expect(decideNavigation('http://localhost:8009/', HUB).action).toBe('external');
    expect(decideNavigation('https://example.com/docs', HUB)).toEqual({
      action: 'external',
      url: 'https://example.com/docs',
    });
  });

  it('denies other schemes, credentials and garbage', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,x',
      'fleetbench://x',
      'not a url',
    ]) {
      expect(decideNavigation(url, HUB).action).toBe('deny');
    }
    expect(decideNavigation('http://127.0.0.1:8009@evil.com/', HUB).action).toBe('deny');
    expect(decideNavigation('http://user:pw@127.0.0.1:8009/', HUB).action).toBe('deny');
  });

  it('normalizes configured origins', () => {
    expect(
      normalizeOrigins(['http://127.0.0.1:8009/', 'HTTP://HUB.lan:80/x', 'file:///x', 'junk']),
    ).toEqual(['http://127.0.0.1:8009', 'http://hub.lan']);
  });
});

describe('decideWindowOpen', () => {
  it('never opens a window: http(s) goes to the system browser, the rest is denied', () => {
    expect(decideWindowOpen('https://example.com/')).toEqual({
      action: 'external',
      url: 'https://example.com/',
    });
    expect(decideWindowOpen('http://127.0.0.1:8009/a/app/').action).toBe('external');
    expect(decideWindowOpen('file:///x').action).toBe('deny');
    expect(decideWindowOpen('about:blank').action).toBe('deny');
  });
});

class FakeContents implements GuardedContents {
  listeners = new Map<
    string,
    (event: { preventDefault(): void; url?: string; isMainFrame?: boolean }, url?: string) => void
  >();
  openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
  on(
    event: string,
    listener: (
      event: { preventDefault(): void; url?: string; isMainFrame?: boolean },
      url?: string,
    ) => void,
  ): this {
    this.listeners.set(event, listener);
    return this;
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' }): void {
    this.openHandler = h;
  }
  fire(event: string, url: string, isMainFrame?: boolean): boolean {
    let prevented = false;
    this.listeners.get(event)?.(
      {
        preventDefault: () => (prevented = true),
        url,
        ...(isMainFrame !== undefined ? { isMainFrame } : {}),
      },
      url,
    );
    return prevented;
  }
}

describe('installNavigationGuard', () => {
  function setup(): { c: FakeContents; opened: string[]; blocked: string[] } {
    const c = new FakeContents();
    const opened: string[] = [];
    const blocked: string[] = [];
    installNavigationGuard(c, {
      allowedOrigins: ['http://127.0.0.1:8009/'],
      openExternal: (u) => opened.push(u),
      onBlocked: (t) => blocked.push(t),
    });
    return { c, opened, blocked };
  }

  it('lets hub navigation through and sends external links to the browser', () => {
    const { c, opened } = setup();
    expect(c.fire('will-navigate', 'http://127.0.0.1:8009/#/devices')).toBe(false);
    expect(c.fire('will-navigate', 'https://docs.example/')).toBe(true);
    expect(c.fire('will-redirect', 'http://evil.example/')).toBe(true);
    expect(c.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(opened).toEqual(['https://docs.example/', 'http://evil.example/']);
  });

  it('keeps subframes on the hub and ignores main-frame duplicates', () => {
    const { c, opened } = setup();
    expect(c.fire('will-frame-navigate', 'https://x.example/', false)).toBe(true);
    expect(c.fire('will-frame-navigate', 'https://x.example/', true)).toBe(false);
    expect(c.fire('will-frame-navigate', 'http://127.0.0.1:8009/a', false)).toBe(false);
    expect(opened).toEqual([]);
  });

  it('denies every window.open and webview', () => {
    const { c, opened, blocked } = setup();
    expect(c.openHandler?.({ url: 'https://x.example/' })).toEqual({ action: 'deny' });
    expect(c.openHandler?.({ url: 'javascript:1' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://x.example/']);
    expect(c.fire('will-attach-webview', '')).toBe(true);
    expect(blocked).toContain('<webview>');
  });
});
