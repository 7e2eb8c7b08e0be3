import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  decidePermission,
  hardenSession,
  withCsp,
  type SessionLike,
} from '../../../src/main/shell/session-hardening';

const HUB = ['http://127.0.0.1:8009'];

describe('session hardening', () => {
  it('grants only clipboard writes, only to the hub', () => {
    expect(decidePermission('clipboard-sanitized-write', 'http://127.0.0.1:8009/', HUB)).toBe(true);
    expect(decidePermission('clipboard-sanitized-write', 'https://evil.example/', HUB)).toBe(false);
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      expect(decidePermission(p, 'http://127.0.0.1:8009/', HUB)).toBe(false);
    }
    expect(decidePermission('clipboard-sanitized-write', 'garbage', HUB)).toBe(false);
  });

  it('allows the dashboard its own origin and notify socket, nothing else', () => {
    const csp = contentSecurityPolicy('http://127.0.0.1:8009');
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:8009");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(contentSecurityPolicy('https://hub.lan')).toContain('wss://hub.lan');
  });

  it('adds the CSP to hub responses that have none, and leaves others alone', () => {
    expect(withCsp('http://127.0.0.1:8009/', {}, HUB)['Content-Security-Policy']).toBeDefined();
    const own = { 'content-security-policy': ["default-src 'none'"] };
    expect(withCsp('http://127.0.0.1:8009/', own, HUB)).toBe(own);
    const other = { a: ['b'] };
    expect(withCsp('https://example.com/', other, HUB)).toBe(other);
  });

  it('wires the handlers into a session', () => {
    const granted: boolean[] = [];
    const h: Partial<{
      req: Parameters<SessionLike['setPermissionRequestHandler']>[0];
      check: Parameters<SessionLike['setPermissionCheckHandler']>[0];
      headers: Parameters<SessionLike['webRequest']['onHeadersReceived']>[0];
    }> = {};
    const session: SessionLike = {
      setPermissionRequestHandler: (f) => (h.req = f),
      setPermissionCheckHandler: (f) => (h.check = f),
      webRequest: { onHeadersReceived: (f) => (h.headers = f) },
    };
    hardenSession(session, HUB);
    h.req?.(null, 'media', (g) => granted.push(g), { requestingUrl: 'http://127.0.0.1:8009/' });
    h.req?.(null, 'clipboard-sanitized-write', (g) => granted.push(g), {
      requestingUrl: 'http://127.0.0.1:8009/',
    });
    expect(granted).toEqual([false, true]);
    expect(h.check?.(null, 'geolocation', 'http://127.0.0.1:8009')).toBe(false);
    let out: Record<string, unknown> = {};
    h.headers?.(
      { url: 'http://127.0.0.1:8009/index.html', responseHeaders: {} },
      (r) => (out = r.responseHeaders ?? {}),
    );
    expect(out['Content-Security-Policy']).toBeDefined();
  });
});
