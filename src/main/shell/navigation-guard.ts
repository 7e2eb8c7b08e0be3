/**
 * Where the dashboard window may go (Electron security checklist 13-14). The window only ever shows
 * the hub's own pages; any other http(s) link opens in the system browser, everything else
 * (file:, javascript:, custom schemes, new windows, webviews) is refused. The decision is pure;
 * `installNavigationGuard` wires it to a WebContents-like object so tests can drive it with fakes.
 */

export type NavigationDecision =
  { action: 'allow' } | { action: 'external'; url: string } | { action: 'deny'; reason: string };

function parse(target: string): URL | null {
  try {
    return new URL(target);
  } catch {
    return null;
  }
}

/** Origins as `URL.origin` renders them, so `http://127.0.0.1:8009/` and `http://127.0.0.1:8009` match. */
export function normalizeOrigins(urls: readonly string[]): string[] {
  const out: string[] = [];
  for (const u of urls) {
    const parsed = parse(u);
    if (parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) {
      out.push(parsed.origin);
    }
  }
  return out;
}

/** Navigation of the window itself (links, redirects, location changes). */
export function decideNavigation(
  target: string,
  allowedOrigins: readonly string[],
): NavigationDecision {
  const url = parse(target);
  if (!url) return { action: 'deny', reason: 'not a URL' };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { action: 'deny', reason: `scheme ${url.protocol} is not allowed` };
  }
  // Credentials in a URL are a classic disguise (`http://hub@evil/`); never treat them as ours.
  if (url.username !== '' || url.password !== '') {
    return { action: 'deny', reason: 'URL carries credentials' };
  }
  if (allowedOrigins.includes(url.origin)) return { action: 'allow' };
  return { action: 'external', url: url.href };
}

/**
 * `window.open` and `target=_blank`: the app has one window, so no new window is ever created.
 * http(s) targets (including the hub's own, e.g. a customer app under /a/) go to the system browser.
 */
export function decideWindowOpen(target: string): NavigationDecision {
  const url = parse(target);
  if (!url) return { action: 'deny', reason: 'not a URL' };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { action: 'deny', reason: `scheme ${url.protocol} is not allowed` };
  }
  if (url.username !== '' || url.password !== '') {
    return { action: 'deny', reason: 'URL carries credentials' };
  }
  return { action: 'external', url: url.href };
}

/** The part of Electron's WebContents the guard uses. */
export interface GuardedContents {
  on(
    event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate',
    listener: (
      event: { preventDefault(): void; url?: string; isMainFrame?: boolean },
      url?: string,
    ) => void,
  ): unknown;
  on(
    event: 'will-attach-webview',
    listener: (event: { preventDefault(): void }, ...rest: unknown[]) => void,
  ): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface NavigationGuardOptions {
  allowedOrigins: readonly string[];
  openExternal(url: string): void;
  /** Told about every refused or redirected navigation (for the log). */
  onBlocked?(target: string, decision: NavigationDecision): void;
}

export function installNavigationGuard(
  contents: GuardedContents,
  options: NavigationGuardOptions,
): void {
  const origins = normalizeOrigins(options.allowedOrigins);
  const onNavigate = (event: { preventDefault(): void; url?: string }, url?: string): void => {
    const target = event.url ?? url ?? '';
    const decision = decideNavigation(target, origins);
    if (decision.action === 'allow') return;
    event.preventDefault();
    if (decision.action === 'external') options.openExternal(decision.url);
    options.onBlocked?.(target, decision);
  };
  contents.on('will-navigate', onNavigate);
  contents.on('will-redirect', onNavigate);
  contents.on('will-frame-navigate', (event, url) => {
    // Electron emits this for the main frame too; will-navigate already decided that one.
    if (event.isMainFrame !== false) return;
    // Subframes (an iframe a future screen might embed) may show hub pages only; never open
    // external pages on their behalf.
    const target = event.url ?? url ?? '';
    if (decideNavigation(target, origins).action !== 'allow') {
      event.preventDefault();
      options.onBlocked?.(target, { action: 'deny', reason: 'frame left the hub' });
    }
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    options.onBlocked?.('<webview>', { action: 'deny', reason: 'webviews are not allowed' });
  });
  contents.setWindowOpenHandler(({ url }) => {
    const decision = decideWindowOpen(url);
    if (decision.action === 'external') options.openExternal(decision.url);
    else options.onBlocked?.(url, decision);
    return { action: 'deny' };
  });
}
