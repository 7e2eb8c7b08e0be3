/**
 * A request body that stops arriving is cut off (issue 7 item 14). Node's `requestTimeout` bounds
 * the whole request (config `timings.requestTimeoutMs`, minutes for a large upload); this bounds
 * silence: while a body is still coming, a socket idle for `timings.bodyIdleTimeoutMs` gets a
 * coded 408 and is closed, so a stalled upload frees its slot and memory in seconds. Once the
 * body is in, the socket has no idle limit again: an RPC call may legitimately wait on its device
 * with nothing on the wire.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../../shared/errors';
import { writeRawError } from './error-handler';
import { syncHook } from './sync-hook';

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  if (typeof length === 'string') return Number(length) > 0;
  return headers['transfer-encoding'] !== undefined;
}

export function installBodyIdleTimeout(app: FastifyInstance, idleMs: number): void {
  app.addHook('onRequest', syncHook(watchBody));
  function watchBody(req: FastifyRequest, reply: FastifyReply): void {
    const raw = req.raw;
    if (idleMs <= 0 || raw.complete || !hasBody(raw.headers)) return;
    const socket = raw.socket;
    const onIdle = (): void => {
      if (raw.complete) return;
      req.log.warn({ url: req.url }, 'request body stalled; connection closed');
      writeRawError(socket, new HubError('request_timeout', `no body data for ${idleMs} ms`));
    };
    let active = true;
    const stop = (): void => {
      if (!active) return;
      active = false;
      raw.removeListener('timeout', onIdle);
      if (!socket.destroyed) socket.setTimeout(0);
    };
    raw.setTimeout(idleMs, onIdle);
    raw.once('end', stop);
    reply.raw.once('close', stop);
    reply.raw.once('finish', stop);
  }
}
