/**
 * Reading a hub answer the same way in every dashboard client (REST, OTA, flasher): the body as
 * JSON when it is JSON, and a refusal as an ApiError carrying the hub's catalog code
 * (PROTOCOL.md 4), so every page can show the code and its remedy.
 */
import { ApiError } from './api-error';
import { readErrorBody } from './schemas';

/** An answer's body: undefined when empty, the JSON value, or the text itself when not JSON. */
export function parseAnswerBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The ApiError of a refused call: the code and message of the hub's `{"error":…}` body, else the
 * HTTP status as the code (a proxy's or a crashed hub's page has no catalog code).
 */
export function answerError(status: number, parsed: unknown, statusText = ''): ApiError {
  const err = readErrorBody(parsed);
  if (err) return new ApiError(err.code, status, err.message);
  return new ApiError(status, status, statusText || `HTTP ${status}`);
}

/** The ApiError of a call that got no answer: `late` when our deadline cut it, else the network. */
export function noAnswerError(e: unknown, timedOut: boolean, late: string): ApiError {
  if (timedOut) return new ApiError(0, 0, late);
  return new ApiError(
    0,
    0,
    `cannot reach the hub (${e instanceof Error ? e.message : 'network error'})`,
  );
}

/** What one JSON call to the hub needs (the per-feature clients differ only in these). */
export interface HubJsonCall {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  url: string;
  key: string;
  method?: string;
  /** Sent as JSON when given. */
  body?: unknown;
  timeoutMs: number;
  /** The message when the deadline cut the call; default "the hub did not answer within N s". */
  late?: string;
}

/**
 * One JSON call with a deadline: the parsed body of a 2xx answer, else an ApiError with the hub's
 * catalog code (or the network's / the deadline's reason).
 */
export async function hubJsonCall(c: HubJsonCall): Promise<unknown> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), c.timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await c.fetch(c.url, {
      method: c.method ?? 'GET',
      headers: {
        Authorization: `Bearer ${c.key}`,
        Accept: 'application/json',
        ...(c.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
      signal: controller.signal,
    });
    text = await res.text();
  } catch (e) {
    const late = c.late ?? `the hub did not answer within ${Math.round(c.timeoutMs / 1000)} s`;
    throw noAnswerError(e, controller.signal.aborted, late);
  } finally {
    clearTimeout(timer);
  }
  const parsed = parseAnswerBody(text);
  if (!res.ok) throw answerError(res.status, parsed, res.statusText);
  return parsed;
}

/** What every feature client (LAN, network, data, customers) is made from. */
export interface HubClientOptions {
  baseUrl: string;
  key: string;
  fetch?: HubJsonCall['fetch'];
  timeoutMs?: number;
}

/**
 * A feature client's JSON caller: `method` on `/api/v2` + `path` of the hub, with the client's
 * key, fetch and deadline (`o.timeoutMs`, else `defaultTimeoutMs`) and `late` as the message when
 * that deadline cuts a call.
 */
export function hubJsonCaller(
  o: HubClientOptions,
  defaultTimeoutMs: number,
  late?: string,
): (method: string, path: string, body?: unknown) => Promise<unknown> {
  const base = o.baseUrl.replace(/\/+$/, '');
  const doFetch = o.fetch ?? ((input, init) => fetch(input, init));
  return (method, path, body) =>
    hubJsonCall({
      fetch: doFetch,
      url: `${base}/api/v2${path}`,
      key: o.key,
      method,
      body,
      timeoutMs: o.timeoutMs ?? defaultTimeoutMs,
      ...(late !== undefined && { late }),
    });
}
