/**
 * Renders every failure as `{"error":{"code","message"}}` with the catalog's HTTP status
 * (PROTOCOL.md 4, DESIGN.md example 6), including Fastify's own errors.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError, type ErrorName } from '../../shared/errors';

export function toHttpError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  const e = err as Partial<FastifyError> & { message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HubError('too_large', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HubError('bad_request', e.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HubError('invalid_json', e.message);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new HubError(kindForStatus(e.statusCode), e.message);
  }
  return new HubError('internal');
}

/** The catalog entry for a bare HTTP status that a framework layer chose. */
export function kindForStatus(status: number): ErrorName {
  const byStatus: Partial<Record<number, ErrorName>> = {
    400: 'bad_request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    408: 'request_timeout',
    409: 'conflict',
    413: 'too_large',
    431: 'headers_too_large',
    501: 'not_implemented',
  };
  return byStatus[status] ?? (status < 500 ? 'bad_request' : 'internal');
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers over 16 KB, a request
 * past `requestTimeout` or `headersTimeout`, a malformed request line) go to the server's
 * `clientError` event; this answers them in the catalog's shape too (issue 7 item 8), then
 * closes the connection, as Node itself does.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const kind: ErrorName =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'headers_too_large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request_timeout'
        : 'bad_request';
  writeRawError(socket, new HubError(kind));
}

/**
 * Writes a complete error response straight to the socket and closes it, unless a response has
 * already begun on it (then only the close is left).
 */
export function writeRawError(socket: Socket, err: HubError): void {
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && started?.headersSent !== true) {
    const body = JSON.stringify(err.toBody());
    socket.end(
      `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
    // A peer that stops reading cannot keep the socket open through the goodbye.
    setTimeout(() => socket.destroy(), 2000).unref();
  } else {
    socket.destroy();
  }
}

/**
 * Errors Fastify raises before routing (a malformed percent-encoding in the URL, a path parameter
 * over `maxParamLength`) skip the error handler; this gives them the same JSON shape.
 */
export function frameworkErrorHandler(
  err: FastifyError,
  _req: FastifyRequest,
  reply: FastifyReply,
): void {
  const httpErr = toHttpError(err);
  void reply.status(httpErr.status).type('application/json').send(httpErr.toBody());
}

/** What a route's failure is answered with; an unexpected one is logged (as an internal error). */
export function routeError(err: unknown, log: { error(obj: object, msg: string): void }): HubError {
  const httpErr = toHttpError(err);
  if (httpErr.kind === 'internal') log.error({ err }, 'unhandled route error');
  return httpErr;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const httpErr = routeError(err, req.log);
    void reply.status(httpErr.status).type('application/json').send(httpErr.toBody());
  });
  // Plugins answer some errors themselves in their own shape (@fastify/cors: a preflight without
  // `Origin` is a text/plain 400). Every error leaves in the catalog's JSON shape instead.
  // A callback hook: every response passes it, and an async one costs a promise and a microtask.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (reply.statusCode < 400) return done(null, payload);
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('application/json')) return done(null, payload);
    const kind = kindForStatus(reply.statusCode);
    const text = typeof payload === 'string' && payload.length <= 200 ? payload.trim() : '';
    const err = new HubError(kind, text === '' ? undefined : text);
    void reply.status(err.status).type('application/json; charset=utf-8');
    done(null, JSON.stringify(err.toBody()));
  });
}
