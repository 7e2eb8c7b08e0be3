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
  id: number;
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
   * The one waiting call, when there is one: most sessions of a big fleet wait on none or one
   * call at a time (issue 11), and a Map made and dropped for every call was ~600 bytes of
   * garbage per REST RPC.
   */
  #one: Pending | null = null;
  /**
   * The others while more than one waits; null otherwise, so an idle session holds no map
   * (issue 11: memory per device).
   */
  #more: Map<number, Pending> | null = null;
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
    return (this.#one === null ? 0 : 1) + (this.#more?.size ?? 0);
  }

  /** Whether `id` is a call still waiting for its reply. */
  has(id: RpcId): boolean {
    return this.#find(id) !== undefined;
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
    const promise = new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#forget(id);
        reject(this.#mapError(new RpcTimeoutError(method, timeoutMs)));
      }, timeoutMs);
      // A call waiting on a device must not keep a CLI run or a test process alive.
      timer.unref();
      const call: Pending = { id, method, resolve, reject, timer };
      if (this.#one === null) this.#one = call;
      else (this.#more ??= new Map()).set(id, call);
    });
    promise.catch(ignore);
    return { id, promise };
  }

  /**
   * Delivers a reply. Returns false when no call with this id is waiting (a late reply after
   * its timeout, a duplicate, or a forged id): the gateway counts and drops it, never answers.
   */
  settle(reply: RpcReply): boolean {
    const call = this.#find(reply.id);
    if (call === undefined) return false;
    this.#forget(call.id);
    clearTimeout(call.timer);
    if (reply.error !== undefined) {
      const { code, message, data } = reply.error;
      call.reject(this.#mapError(new RpcRemoteError(code, message, data, call.method)));
    } else {
      call.resolve(reply.result === undefined ? null : reply.result);
    }
    return true;
  }

  /** Whether the table holds a call or its map now (neither while no call waits); for tests. */
  get allocated(): boolean {
    return this.#one !== null || this.#more !== null;
  }

  #find(id: RpcId): Pending | undefined {
    if (typeof id !== 'number') return undefined; // our ids are numbers
    if (this.#one?.id === id) return this.#one;
    return this.#more?.get(id);
  }

  #forget(id: number): void {
    if (this.#one?.id === id) {
      this.#one = null;
      return;
    }
    const more = this.#more;
    if (more === null) return;
    more.delete(id);
    if (more.size === 0) this.#more = null;
  }

  /** The session closed: reject every waiting call now, oldest first, and stop all timers. */
  failAll(reason: string): void {
    this.#closed = reason;
    const calls = [...(this.#more?.values() ?? [])];
    if (this.#one !== null) calls.push(this.#one);
    calls.sort((a, b) => a.id - b.id);
    this.#one = null;
    this.#more = null;
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
