/**
 * Session-wide hardening for the dashboard window (Electron security checklist 5, 7): deny every
 * permission except writing to the clipboard from the hub's own pages (the "copy token" button),
 * and give the hub's responses a strict Content-Security-Policy even when the page is served by a
 * hub that sets none. The decisions are pure functions; `hardenSession` wires them to a
 * session-like object.
 */

export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

export function decidePermission(
  permission: string,
  requestingUrl: string,
  allowedOrigins: readonly string[],
): boolean {
  const origin = originOf(requestingUrl);
  return origin !== null && allowedOrigins.includes(origin) && ALLOWED_PERMISSIONS.has(permission);
}

/**
 * The dashboard loads only its own bundle and talks only to its own origin: REST over http(s) and
 * the notify stream over ws(s) on the same host and port (PROTOCOL.md 4, 7).
 */
export function contentSecurityPolicy(hubOrigin: string): string {
  const u = new URL(hubOrigin);
  const ws = `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

type Headers = Record<string, string[] | string>;

/** Adds the CSP to a response from the hub unless the hub already sent one. */
export function withCsp(url: string, headers: Headers, allowedOrigins: readonly string[]): Headers {
  const origin = originOf(url);
  if (origin === null || !allowedOrigins.includes(origin)) return headers;
  const has = Object.keys(headers).some((k) => k.toLowerCase() === 'content-security-policy');
  if (has) return headers;
  return { ...headers, 'Content-Security-Policy': [contentSecurityPolicy(origin)] };
}

export interface SessionLike {
  setPermissionRequestHandler(
    handler: (
      webContents: unknown,
      permission: string,
      callback: (granted: boolean) => void,
      details: { requestingUrl?: string },
    ) => void,
  ): void;
  setPermissionCheckHandler(
    handler: (webContents: unknown, permission: string, requestingOrigin: string) => boolean,
  ): void;
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { url: string; responseHeaders?: Headers },
        callback: (response: { responseHeaders?: Headers }) => void,
      ) => void,
    ): void;
  };
}

export function hardenSession(session: SessionLike, allowedOrigins: readonly string[]): void {
  session.setPermissionRequestHandler((_wc, permission, callback, details) => {
    callback(decidePermission(permission, details.requestingUrl ?? '', allowedOrigins));
  });
  session.setPermissionCheckHandler((_wc, permission, requestingOrigin) =>
    decidePermission(permission, requestingOrigin, allowedOrigins),
  );
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: withCsp(details.url, details.responseHeaders ?? {}, allowedOrigins),
    });
  });
}
