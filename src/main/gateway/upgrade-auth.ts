/**
 * Pure parts of the WebSocket upgrade (PROTOCOL.md 1): where the secret comes from and which
 * subprotocol to answer.
 */
import type { IncomingMessage } from 'node:http';

/**
 * The secret from `Authorization: Bearer <s>` or `?access_token=<s>`. Every Authorization header
 * is scanned (Node keeps only the first one in `req.headers`), so an extra `Basic` header, in
 * either order, is accepted and ignored.
 */
export function extractBearer(
  rawHeaders: readonly string[],
  url: string | undefined,
): string | null {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== 'authorization') continue;
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(rawHeaders[i + 1] ?? '');
    if (m?.[1]) return m[1];
  }
  const query = queryParam(url, 'access_token');
  return query !== null && query !== '' ? query : null;
}

/**
 * The first value of `name` in the URL's query string, percent-decoded but NOT form-decoded: keys
 * are base64-like, and a raw `+` in one is a plus, never a space (PROTOCOL.md 4; URLSearchParams
 * would turn it into a space). A malformed escape is kept as written.
 */
export function queryParam(url: string | undefined, name: string): string | null {
  if (url === undefined) return null;
  const start = url.indexOf('?');
  if (start < 0) return null;
  const end = url.indexOf('#', start);
  const query = url.slice(start + 1, end < 0 ? undefined : end);
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if (percentDecode(eq < 0 ? part : part.slice(0, eq)) !== name) continue;
    return eq < 0 ? '' : percentDecode(part.slice(eq + 1));
  }
  return null;
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function requestSecret(req: IncomingMessage): string | null {
  return extractBearer(req.rawHeaders, req.url);
}

/** Answer the first subprotocol the client offered, or none if it offered none. */
export function pickSubprotocol(offered: ReadonlySet<string>): string | false {
  for (const p of offered) return p;
  return false;
}

/** Where a device connects from: its socket (Node caches the address once asked). */
export interface PeerAddress {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

/** `address:port`, IPv6 in brackets; 'unknown' once the socket can no longer tell. */
export function formatPeer(peer: PeerAddress): string {
  const { remoteAddress, remotePort } = peer;
  if (remoteAddress === undefined) return 'unknown';
  return remoteAddress.includes(':')
    ? `[${remoteAddress}]:${remotePort ?? 0}`
    : `${remoteAddress}:${remotePort ?? 0}`;
}

export function pathnameOf(url: string | undefined): string {
  return new URL(url ?? '/', 'http://x').pathname;
}
