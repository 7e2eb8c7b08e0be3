/**
 * The calls one device session is waiting on (PROTOCOL.md 2: numeric ids unique per session,
 * 30 s timeout; PROTOCOL.md 1: on close, fail that device's pending calls at once). No sockets:
 * the gateway sends the frame built with the returned id and hands replies to `settle`.
 */
import type { Json } from '../../shared/types';
import { HubError } from '../../shared/errors';
import type { RpcErrorObject, RpcId } from './frame-codec';

/**
 * The table already holds `maxPending` calls (REST: 429 too_many_calls). A HubError, so every
 * layer that maps call failures passes it through unchanged.
 */
export class PendingCallsFullError extends HubError {
  constructor(
    readonly method: string,
    readonly maxPending: number,
  ) {
    super('too_many_calls', `${method}: ${maxPending} calls are already waiting on this device`);
  }
}

/** The device did not answer within the timeout (REST: 504 device_timeout). */
export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method}: no reply within ${timeoutMs} ms`);
  }
}

/** The device answered with an error (REST: 502 device_error). */
export class RpcRemoteError extends Error {
  override readonly name = 'RpcRemoteError';
  constructor(
    readonly code: number,
    message: string,
    readonly data: Json | undefined,
    readonly method: string,
  ) {
    super(message);
  }
}

/** The session closed before the reply came (REST: 503 device_offline). */
export class RpcClosedError extends Error {
  override readonly name = 'RpcClosedError';
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {
    super(`${method}: ${reason}`);
  }
}

export interface RpcReply {
  id: RpcId;
  result?: Json;
  error?: RpcErrorObject;
}

interface Pending {
  method: string;
  resolve: (v: Json) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Marks a call's promise handled; one function for all calls, not a closure per call. */
const ignore = (): void => undefined;

/** setTimeout fires at once for delays past this (a 32-bit signed millisecond count). */
const MAX_TIMER_MS = 2_147_483_647;

export interface PendingCallsOptions {
  /** Default timeout of a call (PROTOCOL.md 2: 30 s). */
  timeoutMs: number;
  /**
   * Most calls waiting at once (config `limits.maxPendingCallsPerDevice`); unbounded when
   * absent. Each waiting call holds a timer and its caller's request: without a ceiling, a
   * device that never answers lets callers pile them up for a whole timeout.
   */
  maxPending?: number;
  /**
   * Turns a failure (timeout, device error, closed session) into what callers see. The session
   * maps to catalog HubErrors here rather than in a `.then` of its own: that was one more promise
   * and two closures per call, paid 512 times by a 1 MB OTA (issue 8).
   */
  mapError?: (err: RpcTimeoutError | RpcRemoteError | RpcClosedError) => Error;
}

export class PendingCalls {
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  /**
   * Null while no call waits: most sessions of a big fleet have none (issue 11: memory per
   * device), so the map exists only while it holds something.
   */
  #calls: Map<number, Pending> | null = null;
  #nextId = 1;
  #closed: string | null = null;
  readonly #mapError: (err: RpcTimeoutError | RpcRemoteError | RpcClosedError) => Error;

  constructor(opts: PendingCallsOptions) {
    checkTimeout(opts.timeoutMs);
    const max = opts.maxPending ?? Number.POSITIVE_INFINITY;
    if (!(max >= 1)) throw new RangeError(`maxPending must be at least 1, got ${max}`);
    this.#timeoutMs = opts.timeoutMs;
    this.#maxPending = max;
    this.#mapError = opts.mapError ?? ((err) => err);
  }

  /** Calls still waiting for a reply. */
  get size(): number {
    return this.#calls?.size ?? 0;
  }

  /** Whether `id` is a call still waiting for its reply. */
  has(id: RpcId): boolean {
    return typeof id === 'number' && this.#calls !== null && this.#calls.has(id);
  }

  /** True when a new call would be refused; check before building a frame to send. */
  get full(): boolean {
    return this.size >= this.#maxPending;
  }

  /**
   * Registers a call and returns its id (1, 2, 3, ..) and the promise of its result. The
   * promise is marked handled here, so a fire-and-forget call (Shadow.Delta, whose timeout
   * "is not an error", PROTOCOL.md 3) can never become an unhandled rejection that stops the
   * process; whoever awaits it still sees the rejection. After `failAll` the session is gone:
   * new calls reject at once with RpcClosedError instead of waiting out a timeout. When the
   * table is `full`, the call is not registered and rejects at once with PendingCallsFullError
   * (its id is never answered: the caller must not send the frame).
   */
  start(
    method: string,
    timeoutMs: number = this.#timeoutMs,
  ): { id: number; promise: Promise<Json> } {
    checkTimeout(timeoutMs);
    const id = this.#nextId++;
    if (this.#closed !== null) {
      const promise = Promise.reject(this.#mapError(new RpcClosedError(method, this.#closed)));
      promise.catch(ignore);
      return { id, promise };
    }
    if (this.full) {
      const promise = Promise.reject(new PendingCallsFullError(method, this.#maxPending));
      promise.catch(ignore);
      return { id, promise };
    }
    const calls = (this.#calls ??= new Map());
    const promise = new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#forget(id);
        reject(this.#mapError(new RpcTimeoutError(method, timeoutMs)));
      }, timeoutMs);
      // A call waiting on a device must not keep a CLI run or a test process alive.
      timer.unref();
      calls.set(id, { method, resolve, reject, timer });
    });
    promise.catch(ignore);
    return { id, promise };
  }

  /**
   * Delivers a reply. Returns false when no call with this id is waiting (a late reply after
   * its timeout, a duplicate, or a forged id): the gateway counts and drops it, never answers.
   */
  settle(reply: RpcReply): boolean {
    if (typeof reply.id !== 'number') return false; // our ids are numbers
    const call = this.#calls?.get(reply.id);
    if (call === undefined) return false;
    this.#forget(reply.id);
    clearTimeout(call.timer);
    if (reply.error !== undefined) {
      const { code, message, data } = reply.error;
      call.reject(this.#mapError(new RpcRemoteError(code, message, data, call.method)));
    } else {
      call.resolve(reply.result === undefined ? null : reply.result);
    }
    return true;
  }

  /** Whether the table holds its map now (null while no call waits); for tests. */
  get allocated(): boolean {
    return this.#calls !== null;
  }

  #forget(id: number): void {
    const calls = this.#calls;
    if (calls === null) return;
    calls.delete(id);
    if (calls.size === 0) this.#calls = null;
  }

  /** The session closed: reject every waiting call now and stop all timers. */
  failAll(reason: string): void {
    this.#closed = reason;
    const calls = [...(this.#calls?.values() ?? [])];
    this.#calls = null;
    for (const call of calls) {
      clearTimeout(call.timer);
      call.reject(this.#mapError(new RpcClosedError(call.method, reason)));
    }
  }
}

function checkTimeout(ms: number): void {
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_TIMER_MS) {
    throw new RangeError(`RPC timeout must be between 1 and ${MAX_TIMER_MS} ms, got ${ms}`);
  }
}
