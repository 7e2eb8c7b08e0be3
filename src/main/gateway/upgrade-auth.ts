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
  const query = new URL(url ?? '/', 'http://x').searchParams.get('access_token');
  return query !== null && query !== '' ? query : null;
}

export function requestSecret(req: IncomingMessage): string | null {
  return extractBearer(req.rawHeaders, req.url);
}

/** Answer the first subprotocol the client offered, or none if it offered none. */
export function pickSubprotocol(offered: ReadonlySet<string>): string | false {
  for (const p of offered) return p;
  return false;
}

export function pathnameOf(url: string | undefined): string {
  return new URL(url ?? '/', 'http://x').pathname;
}
