/**
 * One authenticated device socket (PROTOCOL.md 1-2): frame dispatch, calls we send with their
 * pending-call table, liveness bookkeeping. Identity is the socket; `src`/`dst`/`key` in frames
 * are ignored by the codec.
 */
import type { RawData, WebSocket } from 'ws';
import type { Json } from '../../shared/types';
import { HubError, RPC_ERRORS } from '../../shared/errors';
import {
  decodeDeviceFrame,
  type DecodedFrame,
  type LargeReplies,
  type RpcId,
} from '../rpc/frame-codec';
import { encodeCall, encodeError, encodeResult } from '../rpc/frame-encode';
import { attachedJson } from '../events/encoded-json';
import {
  PendingCalls,
  PendingCallsFullError,
  RpcClosedError,
  RpcRemoteError,
  RpcTimeoutError,
} from '../rpc/pending-calls';
import type { NotificationBus } from '../events/notification-bus';
import type { DeviceService } from '../devices/device-service';
import type { FrameStats } from './frame-stats';
import { isAckOnly, NO_REPLY, type DeviceMethod, type DeviceMethodTable } from './device-methods';
import { rpcInName, rpcOutName } from './notification-names';
import { reuseFragmentList } from '../receiver-fragments';
import { DeviceRateLimiter, rateLimitEnabled, type RateLimitOptions } from './rate-limiter';
import { MissedPongs } from './liveness';
import type { IntervalMember, IntervalQueue } from './interval-queue';
import { formatPeer, type PeerAddress } from './upgrade-auth';
import type { Corkable, TurnWrites } from './turn-writes';

export interface SessionDeps {
  devices: DeviceService;
  bus: NotificationBus;
  stats: FrameStats;
  methods: DeviceMethodTable;
  maxMessageBytes: number;
  /** A reply to one of our pending calls may be this large (limits.maxReplyBytes, PROTOCOL.md 2). */
  maxReplyBytes: number;
  /** Calls waiting at once, whoever starts them (limits.maxPendingCallsPerDevice). */
  maxPendingCalls: number;
  rpcTimeoutMs: number;
  /** Shared by every session (built once by the gateway, with its maxPauseMs). */
  rateLimit: RateLimitOptions;
  pingIntervalMs: number;
  /** The one clock of every session's pings, ticking every pingIntervalMs (interval-queue.ts). */
  livenessClock: IntervalQueue;
  maxMissedPongs: number;
  /** Frames to the device leave after the event-loop turn, with the turn's others (turn-writes.ts). */
  turnWrites: TurnWrites;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    debug(obj: object, msg: string): void;
  };
}

/** Close code for a device kept over its rate limit (RFC 6455 1008: policy violation). */
export const RATE_LIMIT_CLOSE_CODE = 1008;

/** Provoked notifications a device may have in hand at once (see `echoCredits`). */
export const ECHO_CREDIT_MAX = 2;

/** Maps pending-call failures to the catalog errors REST clients see (PROTOCOL.md 4: 502/503/504). */
export function toHubError(err: unknown, deviceId: string, method: string): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof RpcTimeoutError) {
    return new HubError('device_timeout', `device '${deviceId}' did not answer ${method} in time`);
  }
  if (err instanceof RpcRemoteError) {
    return new HubError('device_error', `device error ${err.code}: ${err.message}`, {
      code: err.code,
      data: err.data,
    });
  }
  if (err instanceof RpcClosedError) {
    return new HubError('device_offline', `device '${deviceId}' disconnected`);
  }
  return new HubError('internal', err instanceof Error ? err.message : String(err));
}

/**
 * Memory per session matters at fleet scale (issue 11: 50,000 devices): what every session needs
 * is allocated here, what few sessions ever use (probes, calls in flight) only when first used,
 * and the liveness clock is shared (the session is a member of the gateway's IntervalQueue).
 */
export class DeviceSession implements IntervalMember, LargeReplies {
  readonly pending: PendingCalls;
  readonly liveness: MissedPongs;
  closed = false;
  readonly connectedAt = Date.now();
  /** Set when this session replaced a live one of the same device (duplicate damping). */
  replacedAt: number | null = null;
  /**
   * Built at the first frame and dropped again at a liveness tick that finds it idle (full
   * buckets, no streak: the state a new one starts in), so a quiet device holds none.
   */
  private limiter: DeviceRateLimiter | null = null;
  /** `"$sys/<devid>"` as JSON: the `src` of every call we send (PROTOCOL.md 2), made once. */
  private srcJson: string | null = null;
  /**
   * Id-less frames the device may send over its rate limit because a call of ours provoked them
   * (OTA: the Arduino library's `State.Set` progress with every `OTA.Write`, PROTOCOL.md 6). Each
   * call we send earns one, up to ECHO_CREDIT_MAX; the hub sets the pace, so a device cannot send
   * more of them than the hub makes calls. Earned when the call leaves, not when its reply comes:
   * the library sends its State.Set BEFORE the reply (mDashNotify, then mg_rpc_ok), so a credit
   * earned by the reply came one call late, and an echo with none left was dropped and paused the
   * socket, the reply behind it included.
   */
  private echoCredits = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  /** Liveness probes waiting for a sign of life (duplicate damping); null when none. */
  private probes: ((alive: boolean) => void)[] | null = null;
  // IntervalMember: this session's place on the shared liveness clock.
  dueAt = 0;
  prevDue: IntervalMember | null = null;
  nextDue: IntervalMember | null = null;

  constructor(
    readonly deviceId: string,
    readonly ws: WebSocket,
    /**
     * The device's socket under `ws`: corked for the turn before each frame (turn-writes.ts);
     * its `address:port` is read only when needed (`remote`).
     */
    private readonly peer: PeerAddress & Corkable,
    private readonly deps: SessionDeps,
  ) {
    this.pending = new PendingCalls({
      timeoutMs: deps.rpcTimeoutMs,
      maxPending: deps.maxPendingCalls,
      // Callers see catalog errors (REST: 502/503/504), mapped where the call fails.
      mapError: (err) => toHubError(err, deviceId, err.method),
    });
    this.liveness = new MissedPongs(deps.maxMissedPongs);
    const reuseFragments = reuseFragmentList(ws);
    ws.on('message', (data, isBinary) => {
      reuseFragments();
      this.onMessage(data, isBinary);
    });
    ws.on('pong', () => this.heard());
    ws.on('ping', () => this.heard());
  }

  /**
   * Starts the liveness clock (PROTOCOL.md 1): a ping now, then one every interval from this
   * session's own connect (the shared clock keeps each member's phase); at the missed-pong limit
   * the socket is terminated.
   */
  startLiveness(): void {
    this.onDue();
  }

  /** One liveness step, due every pingIntervalMs (IntervalMember). */
  onDue(): void {
    if (this.closed) return;
    if (this.liveness.due() === 'drop') {
      this.deps.stats.disconnect('missed_pongs');
      this.deps.log.info(
        { device: this.deviceId, remote: this.remote, missed: this.liveness.missed },
        'device missed pongs: dropping',
      );
      this.ws.terminate();
      return;
    }
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
    if (this.limiter?.idleAt(performance.now())) this.limiter = null;
    this.deps.livenessClock.schedule(this);
  }

  /** `address:port` of the peer, for logs (duplicate devices, rate-limit disconnects). */
  get remote(): string {
    return formatPeer(this.peer);
  }

  /** LargeReplies: a reply to one of our waiting calls may be this large. */
  get maxReplyBytes(): number {
    return this.deps.maxReplyBytes;
  }

  /**
   * LargeReplies: whether `id` is one of our calls still waiting for its reply (such replies also
   * pass the rate limit, PROTOCOL.md 2).
   */
  isPending(id: RpcId): boolean {
    return this.pending.has(id);
  }

  /**
   * Pings now and resolves true at the next sign of life (pong or frame), false when `timeoutMs`
   * passes first or the session ends. Tells a live duplicate from a half-open socket.
   */
  probe(timeoutMs: number): Promise<boolean> {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(false), timeoutMs);
      const settle = (alive: boolean): void => {
        clearTimeout(timer);
        const left = this.probes?.filter((p) => p !== settle) ?? [];
        this.probes = left.length === 0 ? null : left;
        resolve(alive);
      };
      (this.probes ??= []).push(settle);
      this.ws.ping();
    });
  }

  private heard(): void {
    this.liveness.heard();
    if (this.probes === null) return;
    const probes = this.probes;
    this.probes = null;
    for (const p of probes) p(true);
  }

  /** Calls a device method; emits `rpc.in.<method>` (PROTOCOL.md 2). Rejects with a HubError. */
  call(method: string, params: Json | undefined, timeoutMs?: number): Promise<Json> {
    if (this.closed) {
      return Promise.reject(new HubError('device_offline', `device '${this.deviceId}' is offline`));
    }
    if (this.pending.full) {
      // Every caller meets the same ceiling (REST, Shadow.Delta, OTA, FS): the call is refused at
      // once with a coded 429, and nothing is published or sent for it.
      return Promise.reject(new PendingCallsFullError(method, this.deps.maxPendingCalls));
    }
    // The pending call's own promise, failures already mapped to HubErrors (mapError above).
    const { id, promise } = this.pending.start(method, timeoutMs);
    // Params whose JSON the caller attached (an OTA chunk) are not encoded again (encoded-json.ts).
    const paramsJson = attachedJson(params);
    this.send(
      paramsJson === undefined
        ? encodeCall(id, method, params, `$sys/${this.deviceId}`)
        : `{"id":${id},"method":${JSON.stringify(method)},"params":${paramsJson},"src":${(this.srcJson ??= JSON.stringify(`$sys/${this.deviceId}`))}}`,
    );
    this.echoCredits = Math.min(ECHO_CREDIT_MAX, this.echoCredits + 1);
    // Published after the frame left, so the device works on it while subscribers and the log get
    // theirs (the reply is handled on a later I/O turn, after this notification).
    this.deps.bus.publish({ name: rpcInName(method), id: this.deviceId, data: params ?? null });
    return promise;
  }

  /** Whether the session holds its structures for calls now (none while none waits); for tests. */
  get holdsCallState(): boolean {
    return this.pending.allocated;
  }

  /** Whether the session holds a rate limiter now (none while idle); for tests. */
  get holdsLimiter(): boolean {
    return this.limiter !== null;
  }

  send(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.deps.stats.framesOut++;
    this.deps.turnWrites.cork(this.peer);
    this.ws.send(text);
  }

  /** Marks the session over and fails its pending calls at once (PROTOCOL.md 1 "On close"). */
  markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.livenessClock.cancel(this);
    clearTimeout(this.resumeTimer);
    const probes = this.probes ?? [];
    this.probes = null;
    for (const p of probes) p(false);
    this.pending.failAll(reason);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const { stats, devices, bus } = this.deps;
    stats.framesIn++;
    this.heard();
    devices.touch(this.deviceId);
    if (this.closed) return;
    const raw = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    let frame: DecodedFrame | undefined;
    if (rateLimitEnabled(this.deps.rateLimit)) {
      const now = performance.now();
      const limiter = (this.limiter ??= new DeviceRateLimiter(this.deps.rateLimit, now));
      let mustPass = false;
      const expecting = this.pending.size > 0 || this.echoCredits > 0;
      if (expecting && !isBinary && !limiter.wouldPass(raw.byteLength, now)) {
        // Over the limit, but this may be an answer the hub is waiting for (an OTA.Write ack,
        // an FS.Get chunk): those are counted and always delivered. Only then is it worth a parse.
        frame = this.decode(raw);
        mustPass = frame.kind === 'reply' && this.isPending(frame.id);
        if (!mustPass && frame.kind === 'notification' && this.echoCredits > 0) {
          this.echoCredits--;
          mustPass = true;
        }
      }
      const verdict = limiter.check(raw.byteLength, now, mustPass);
      if (verdict.kind === 'pass_over') stats.limitedReplies++;
      else if (verdict.kind === 'drop') {
        stats.count('rate_limited');
        if (verdict.streakStart) {
          this.deps.log.warn(
            { device: this.deviceId, remote: this.remote },
            'device over its rate limit: dropping its frames',
          );
        }
        this.pauseReading(verdict.pauseMs);
        return;
      } else if (verdict.kind === 'disconnect') {
        stats.count('rate_limited');
        this.disconnectForAbuse(verdict.streakMs, verdict.droppedInStreak);
        return;
      }
    }
    if (isBinary) {
      stats.drop(this.deviceId, 'binary', 'binary frame');
      return;
    }
    frame ??= this.decode(raw);
    switch (frame.kind) {
      case 'reply':
        // Never answer a reply, known or not: that is how loops start (PROTOCOL.md 2).
        if (!this.pending.settle(frame)) {
          stats.drop(this.deviceId, 'unknown_reply', `reply to unknown id ${String(frame.id)}`);
        }
        return;
      case 'junk':
        stats.drop(this.deviceId, frame.reason, frame.detail);
        return;
      case 'request':
      case 'notification': {
        bus.publish({
          name: rpcOutName(frame.method),
          id: this.deviceId,
          data: frame.params ?? null,
        });
        const handler = this.deps.methods.get(frame.method);
        if (frame.kind === 'notification') {
          // Nothing answers a notification: with no handler, or one that only acknowledges,
          // the notification above was all there is to do.
          if (handler === undefined || isAckOnly(handler)) return;
          void this.dispatch(handler, frame.method, frame.params, undefined, undefined);
          return;
        }
        if (handler === undefined) {
          this.send(
            encodeError(frame.id, RPC_ERRORS.method_not_found, 'method not found', frame.tag),
          );
          return;
        }
        void this.dispatch(handler, frame.method, frame.params, frame.id, frame.tag);
        return;
      }
    }
  }

  /**
   * Frames over maxMessageBytes are junk, except a reply to one of our waiting calls, which may be
   * up to maxReplyBytes (PROTOCOL.md 2: an FS.Get chunk, say).
   */
  private decode(raw: Buffer): DecodedFrame {
    return decodeDeviceFrame(raw, this.deps.maxMessageBytes, this);
  }

  /**
   * Backpressure: stop reading this socket for a while, so a flooder's frames wait in its own
   * TCP buffers instead of costing the hub a parse each (frames already read still arrive and
   * meet the limiter).
   */
  private pauseReading(ms: number): void {
    if (this.ws.isPaused) return;
    this.ws.pause();
    this.resumeTimer = setTimeout(() => {
      if (!this.closed) this.ws.resume();
    }, ms);
    this.resumeTimer.unref();
  }

  private disconnectForAbuse(streakMs: number, dropped: number): void {
    this.deps.stats.disconnect('rate_limited');
    this.deps.log.warn(
      {
        device: this.deviceId,
        remote: this.remote,
        seconds: Math.round(streakMs / 100) / 10,
        dropped,
      },
      'device kept over its rate limit: disconnecting',
    );
    this.markClosed('rate limit exceeded');
    // Read nothing more: the rest of its flood would only be parsed and thrown away. The close
    // frame still goes out; the socket is terminated if the handshake cannot finish.
    this.ws.pause();
    this.ws.close(RATE_LIMIT_CLOSE_CODE, 'rate limit exceeded');
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  private async dispatch(
    handler: DeviceMethod,
    method: string,
    params: Json | undefined,
    id: RpcId | undefined,
    tag: Json | undefined,
  ): Promise<void> {
    try {
      const result = await handler(this, params, id !== undefined);
      if (id !== undefined && result !== NO_REPLY) this.send(encodeResult(id, result, tag));
    } catch (err) {
      const e = err instanceof HubError ? err : toHubError(err, this.deviceId, method);
      if (e.kind === 'internal')
        this.deps.log.warn(
          { device: this.deviceId, method, err: e.message },
          'device method failed',
        );
      if (id !== undefined) this.send(encodeError(id, rpcCodeFor(e), e.message, tag));
    }
  }
}

function rpcCodeFor(e: HubError): number {
  switch (e.kind) {
    case 'validation_failed':
      return RPC_ERRORS.invalid_params;
    case 'version_conflict':
      return RPC_ERRORS.version_conflict;
    case 'shadow_too_large':
    case 'too_large':
      return RPC_ERRORS.too_large;
    case 'not_implemented':
      return RPC_ERRORS.not_supported;
    // DB.Store / DB.Save / HTTP.Request outcomes keep their catalog code so firmware can tell
    // them apart.
    case 'data_query_unknown':
    case 'data_write_failed':
    case 'data_rows_quota':
    case 'account_db_full':
    case 'storage_full':
    case 'http_destination_forbidden':
    case 'http_disabled':
    case 'http_rate_limited':
    case 'http_busy':
    case 'http_response_too_large':
    case 'http_upstream_failed':
    case 'http_timeout':
      return e.code;
    default:
      return RPC_ERRORS.internal;
  }
}
