/**
 * Uploads in flight per API key (issue 7 item 14): a client that opens many uploads and never
 * finishes them would otherwise hold memory, sockets and serial-port plans without bound. Routes
 * opt in with `config: { upload: true }`; past `limits.maxUploadsPerKey` a key gets a coded 429
 * until one of its uploads ends (answered, failed or cut off: the slot is freed when the
 * response closes, whatever the reason). A route that may wait long after its body is in (an OTA
 * answered when the job ends) opts in with `upload: 'body'`: its slot covers only the body being
 * received and is freed as soon as the body has been read whole, so the cap still bounds bodies
 * in flight while a key may wait on any number of such requests.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../../shared/errors';
import { requestKey } from './auth';
import { syncHook } from './sync-hook';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Counts against the per-key upload limit: `true` until the response closes, `'body'` only
     * until the request body has been received (or the response closes, if that comes first).
     */
    upload?: boolean | 'body';
  }
}

/** A counter per holder with a ceiling; pure, no I/O. */
export class UploadSlots {
  readonly #inUse = new Map<string, number>();

  constructor(readonly maxPerHolder: number) {}

  /** Takes a slot and returns its release (idempotent), or null when the holder is at the limit. */
  acquire(holder: string): (() => void) | null {
    const n = this.#inUse.get(holder) ?? 0;
    if (n >= this.maxPerHolder) return null;
    this.#inUse.set(holder, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inUse.get(holder) ?? 1) - 1;
      if (left <= 0) this.#inUse.delete(holder);
      else this.#inUse.set(holder, left);
    };
  }

  inUse(holder: string): number {
    return this.#inUse.get(holder) ?? 0;
  }
}

/** Registers the hook; call after `installAuth` so an unauthenticated request never takes a slot. */
export function installUploadSlots(app: FastifyInstance, maxPerKey: number): UploadSlots {
  const slots = new UploadSlots(maxPerKey);
  app.addHook('onRequest', syncHook(takeSlot));
  function takeSlot(req: FastifyRequest, reply: FastifyReply): void {
    const mode = req.routeOptions.config?.upload;
    if ((mode !== true && mode !== 'body') || req.method === 'OPTIONS') return;
    const holder = requestKey(req) ?? `addr:${req.ip}`;
    const release = slots.acquire(holder);
    if (release === null) {
      throw new HubError(
        'too_many_uploads',
        `at most ${maxPerKey} uploads at a time per key; wait for one to finish`,
      );
    }
    reply.raw.once('close', release);
    // 'end' comes once the body parser (JSON) or the multipart stream has read the last byte;
    // listening for it does not start the stream flowing.
    if (mode === 'body') {
      if (req.raw.readableEnded) release();
      else req.raw.once('end', release);
    }
  }
  return slots;
}
