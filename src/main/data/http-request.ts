/**
 * Performs one device HTTP.Request (PROTOCOL.md 2) from the hub: resolve the name here, check
 * every address against the destination policy (http-request-guard.ts), connect to the checked
 * address only (a pinned `lookup`: no second DNS answer can swap it), follow redirects only after
 * checking each hop, stop at the deadline and at the response size cap.
 *
 * The response body is text when it is valid UTF-8, else base64 with `encoding: "base64"`. A
 * response over the cap is an error (code 5027), not a truncated body: half a JSON document is
 * worse for firmware than a clear failure.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HubError } from '../../shared/errors';
import {
  checkUrl,
  isIpLiteral,
  refusalOf,
  UrlProblem,
  type CheckedUrl,
  type DestinationPolicy,
} from './http-request-guard';
import type { HttpMethod, NormalizedHttpRequest } from './http-request-schema';

export interface HttpResponseResult {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  /** Present only when the body is not UTF-8 and `body` is its base64. */
  encoding?: 'base64';
}

export interface PerformOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  maxRedirects: number;
  policy: () => DestinationPolicy;
  /** Name resolution; dns.lookup (the OS resolver, /etc/hosts included) unless a test swaps it. */
  resolve?: (host: string) => Promise<LookupAddress[]>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function performHttpRequest(
  req: NormalizedHttpRequest,
  opts: PerformOptions,
): Promise<HttpResponseResult> {
  const deadline = Date.now() + opts.timeoutMs;
  let target = parseUrl(req.url);
  let method: HttpMethod = req.method;
  let body = req.body;
  let headers = { ...req.headers };
  for (let hop = 0; ; hop++) {
    const res = await oneHop(target, method, headers, body, deadline, opts);
    const location = res.message.headers.location;
    if (
      !REDIRECTS.has(res.message.statusCode ?? 0) ||
      location === undefined ||
      opts.maxRedirects === 0
    ) {
      return readBody(res.message, res.abort, opts.maxResponseBytes, method, deadline);
    }
    res.abort();
    if (hop + 1 > opts.maxRedirects) {
      throw new HubError('http_upstream_failed', `more than ${opts.maxRedirects} redirects`);
    }
    const next = parseUrl(location, target.url);
    if (next.url.origin !== target.url.origin) {
      // Credentials were meant for the first origin, not wherever it points (as browsers do).
      delete headers['authorization'];
      delete headers['cookie'];
    }
    const status = res.message.statusCode ?? 0;
    if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
      if (method !== 'HEAD') method = 'GET';
      body = null;
      headers = { ...headers };
      delete headers['content-type'];
    }
    target = next;
  }
}

function parseUrl(text: string, base?: URL): CheckedUrl {
  try {
    return checkUrl(text, base);
  } catch (err) {
    if (err instanceof UrlProblem) {
      throw new HubError(
        base ? 'http_upstream_failed' : 'validation_failed',
        `/url: ${err.message}`,
      );
    }
    throw err;
  }
}

interface Hop {
  message: IncomingMessage;
  abort: () => void;
}

/** Resolves and checks the target, then sends the request to the checked address. */
async function oneHop(
  target: CheckedUrl,
  method: HttpMethod,
  headers: Record<string, string>,
  body: Buffer | null,
  deadline: number,
  opts: PerformOptions,
): Promise<Hop> {
  const policy = opts.policy();
  const addresses = isIpLiteral(target.host)
    ? [{ address: target.host, family: target.host.includes(':') ? 6 : 4 }]
    : await withDeadline(resolveName(target.host, opts), deadline);
  // Every address must pass: a name that also points at a forbidden one is refused, whichever
  // the connection would have picked.
  for (const a of addresses) {
    const why = refusalOf(a.address, target.port, policy);
    if (why !== null) {
      throw new HubError(
        'http_destination_forbidden',
        `HTTP.Request to ${target.url.host} refused: ${why}`,
      );
    }
  }
  const pinned = addresses[0];
  if (pinned === undefined) {
    throw new HubError('http_upstream_failed', `${target.host} has no address`);
  }
  const options: RequestOptions = {
    method,
    host: target.host,
    port: target.port,
    path: `${target.url.pathname}${target.url.search}`,
    headers: body === null ? headers : { ...headers, 'content-length': String(body.byteLength) },
    agent: false,
    lookup: ((
      _host: string,
      o: LookupOptions,
      cb: (err: Error | null, a: string | LookupAddress[], f?: number) => void,
    ) => {
      if (o.all === true) cb(null, [pinned]);
      else cb(null, pinned.address, pinned.family);
    }) as RequestOptions['lookup'],
  };
  return new Promise<Hop>((resolve, reject) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    let creq: ReturnType<typeof httpRequest>;
    try {
      creq = send(options);
    } catch (err) {
      // Node refuses some header values itself (ERR_INVALID_CHAR, ...).
      reject(new HubError('validation_failed', `/headers: ${(err as Error).message}`));
      return;
    }
    const timer = setTimeout(
      () => creq.destroy(new HubError('http_timeout', 'no answer within the deadline')),
      Math.max(0, deadline - Date.now()),
    );
    timer.unref();
    const abort = (): void => {
      clearTimeout(timer);
      creq.destroy();
    };
    creq.on('response', (message) => {
      // From here on the body reader keeps the deadline.
      settled = true;
      clearTimeout(timer);
      resolve({ message, abort });
    });
    creq.on('error', (err) => {
      clearTimeout(timer);
      if (settled) return;
      reject(upstreamError(err));
    });
    creq.end(body ?? undefined);
  });
}

async function resolveName(host: string, opts: PerformOptions): Promise<LookupAddress[]> {
  try {
    const found = await (opts.resolve ?? ((h: string) => dnsLookup(h, { all: true })))(host);
    return found;
  } catch (err) {
    throw new HubError(
      'http_upstream_failed',
      `could not resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

function withDeadline<T>(p: Promise<T>, deadline: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new HubError('http_timeout', 'name resolution did not finish in time')),
      Math.max(0, deadline - Date.now()),
    );
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}

function upstreamError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  const e = err as NodeJS.ErrnoException;
  return new HubError('http_upstream_failed', `HTTP.Request failed: ${e.code ?? e.message}`);
}

/** Reads the body up to the cap; rejects with a coded error when the cap or deadline is hit. */
function readBody(
  message: IncomingMessage,
  abort: () => void,
  maxBytes: number,
  method: HttpMethod,
  deadline: number,
): Promise<HttpResponseResult> {
  const status = message.statusCode ?? 0;
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k] = v;
  const tooLarge = (n: number | string): HubError =>
    new HubError(
      'http_response_too_large',
      `HTTP.Request response is ${n} bytes, more than the ${maxBytes} allowed`,
    );
  const announced = Number(message.headers['content-length'] ?? NaN);
  if (method !== 'HEAD' && Number.isFinite(announced) && announced > maxBytes) {
    abort();
    return Promise.reject(tooLarge(announced));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: HubError): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      abort();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new HubError('http_timeout', 'the response body did not finish in time')),
      Math.max(0, deadline - Date.now()),
    );
    timer.unref();
    message.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) fail(tooLarge(`over ${maxBytes}`));
      else chunks.push(chunk);
    });
    message.on('error', (err) => fail(upstreamError(err)));
    message.on('aborted', () => fail(new HubError('http_upstream_failed', 'response cut off')));
    message.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      abort();
      resolve(encodeBody(status, headers, Buffer.concat(chunks)));
    });
  });
}

function encodeBody(
  status: number,
  headers: Record<string, string | string[]>,
  bytes: Buffer,
): HttpResponseResult {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return { status, headers, body: text };
  } catch {
    return { status, headers, body: bytes.toString('base64'), encoding: 'base64' };
  }
}
