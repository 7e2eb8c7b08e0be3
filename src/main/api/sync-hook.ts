/**
 * A synchronous `onRequest` check in Fastify's callback form: a throw becomes `done(err)`, which
 * Fastify answers through the error handler like an async hook's rejection. Every request runs
 * these hooks, and an async hook costs a promise and a microtask per request (issue 11).
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';

export function syncHook(
  check: (req: FastifyRequest, reply: FastifyReply) => void,
): onRequestHookHandler {
  return (req, reply, done) => {
    try {
      check(req, reply);
    } catch (e) {
      done(e as Error);
      return;
    }
    done();
  };
}
