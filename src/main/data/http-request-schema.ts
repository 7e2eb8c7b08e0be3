/**
 * The params of a device's `HTTP.Request {"url","method","body","headers"}` (PROTOCOL.md 2) and
 * their normal form. The TypeBox schema is the type; limits that depend on configuration (body
 * size) are checked in `normalizeHttpParams`.
 */
import Type, { type Static } from 'typebox';
import { HubError } from '../../shared/errors';
import { parseWith } from '../validate';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** RFC 9110 token; values are visible ASCII/Latin-1 and tab (no CR, LF, NUL: no header splitting). */
const HeaderName = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
});
const HeaderValue = Type.String({ maxLength: 4096, pattern: '^[\\t\\x20-\\x7e\\x80-\\xff]*$' });

export const HttpRequestParams = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  method: Type.Optional(Type.String({ minLength: 1, maxLength: 16, pattern: '^[A-Za-z]+$' })),
  // A string is sent as is; any other JSON is sent as its JSON text (application/json).
  body: Type.Optional(Type.Unknown()),
  headers: Type.Optional(
    Type.Record(HeaderName, HeaderValue, { maxProperties: 32, additionalProperties: false }),
  ),
});
export type HttpRequestParams = Static<typeof HttpRequestParams>;

/**
 * Headers the hub owns on its own connection (hop-by-hop, RFC 9110 7.6.1, plus `host` and the
 * body framing): a device's values are dropped, not forwarded, so it cannot smuggle a second
 * request, pick another virtual host than its URL names, or open a tunnel.
 */
const HUB_OWNED_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
]);

export interface NormalizedHttpRequest {
  url: string;
  method: HttpMethod;
  headers: Record<string, string>;
  body: Buffer | null;
}

/** Validates `params` (coded `validation_failed` naming the field) and returns its normal form. */
export function normalizeHttpParams(params: unknown, maxBodyBytes: number): NormalizedHttpRequest {
  const p = parseWith(HttpRequestParams, params ?? {});
  const method = (p.method ?? 'GET').toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(method)) {
    throw new HubError(
      'validation_failed',
      `/method: ${method} is not one of ${HTTP_METHODS.join(', ')}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(p.headers ?? {})) {
    const lower = name.toLowerCase();
    if (!HUB_OWNED_HEADERS.has(lower)) headers[lower] = value;
  }
  let body: Buffer | null = null;
  if (typeof p.body === 'string') body = Buffer.from(p.body, 'utf8');
  else if (p.body !== undefined && p.body !== null) {
    body = Buffer.from(JSON.stringify(p.body), 'utf8');
    headers['content-type'] ??= 'application/json';
  }
  if (body !== null && body.byteLength > maxBodyBytes) {
    throw new HubError(
      'too_large',
      `HTTP.Request body is ${body.byteLength} bytes, more than ${maxBodyBytes}`,
    );
  }
  if (body !== null && (method === 'GET' || method === 'HEAD') && body.byteLength > 0) {
    throw new HubError('validation_failed', `/body: a ${method} request carries no body`);
  }
  return { url: p.url, method: method as HttpMethod, headers, body };
}
