/**
 * JSON over HTTP to an mDash-compatible server (the import's source, or the local hub as its
 * target), PROTOCOL.md 4: `Authorization: Bearer <key>`, errors as `{"error":{"code","message"}}`.
 * The key goes only into the header: never into a URL, a message or a log line.
 */

export interface Endpoint {
  /** Where `/api/v2/...` paths resolve: the server's origin plus any path prefix. */
  base: URL;
  key: string;
  /** The server as it may be shown: no credentials, no query. */
  label: string;
}

/** The server could not be reached at all (DNS, refused, TLS, timeout). */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

/** The server answered with an error status. */
export class RestError extends Error {
  override readonly name = 'RestError';
  constructor(
    readonly status: number,
    /** The catalog code from the error body, when there was one. */
    readonly code: number | null,
    message: string,
  ) {
    super(message);
  }
  /** `message (code N)` or `HTTP status: message`, for a summary line. */
  describe(): string {
    return this.code === null
      ? `HTTP ${this.status}: ${this.message}`
      : `${this.message} (code ${this.code})`;
  }
}

/**
 * The reason a write failed, for the summary: a server's refusal is that item's failure; anything
 * else (a bug, the target gone) is not ours to judge and is thrown on.
 */
export function reasonOf(err: unknown): string {
  if (err instanceof RestError) return err.describe();
  throw err;
}

/**
 * A checked endpoint from a URL as a user types it: `https://mdash.net`, `http://10.0.0.2:8009`,
 * with or without a trailing `/api/v2`. Throws a plain Error for something that is not a URL.
 */
export function endpointFrom(url: string, key: string): Endpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`'${url}' is not a URL (e.g. http://192.168.1.10:8009 or https://mdash.net)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new Error(`'${u.protocol}' URLs are not supported: use http:// or https://`);
  }
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  u.pathname = u.pathname.replace(/\/+$/, '').replace(/\/api\/v2$/, '') + '/';
  const label = u.toString().replace(/\/$/, '');
  return { base: u, key, label };
}

export interface RestAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON; undefined when the body was not JSON (`text` then holds it). */
  json: unknown;
  text: string;
}

/** One call; resolves for 2xx only. Error statuses throw RestError, network failures NetworkError. */
export async function restCall(
  ep: Endpoint,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<RestAnswer> {
  const url = new URL(path.replace(/^\//, ''), ep.base);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${ep.key}`,
        accept: 'application/json',
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
    text = await res.text();
  } catch (err) {
    throw new NetworkError(networkReason(err, timeoutMs));
  }
  let json: unknown;
  try {
    json = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'number' ? error.code : null;
    const message =
      typeof error?.message === 'string' ? error.message : text.slice(0, 200) || res.statusText;
    throw new RestError(res.status, code, message);
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** `fetch failed` says nothing: the cause (ECONNREFUSED, ENOTFOUND, a TLS error) does. */
function networkReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string }) : null;
  if (cause?.code !== undefined)
    return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  // fetch's own refusals (a port browsers block, such as 1 or 9) carry only a message.
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
