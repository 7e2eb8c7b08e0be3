/**
 * Renders every failure as `{"error":{"code","message"}}` with the catalog's HTTP status
 * (PROTOCOL.md 4, DESIGN.md example 6), including Fastify's own errors.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../../shared/errors';

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
    return new HubError(e.statusCode === 413 ? 'too_large' : 'bad_request', e.message);
  }
  return new HubError('internal');
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

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const httpErr = toHttpError(err);
    if (httpErr.kind === 'internal') req.log.error({ err }, 'unhandled route error');
    void reply.status(httpErr.status).type('application/json').send(httpErr.toBody());
  });
}
