/**
 * A simulated mDash device on a real WebSocket: the demo fleet, the test peer of the gateway and
 * the load generator of the benchmarks. It speaks PROTOCOL.md sections 1-2 the way firmware does
 * (Bearer or `?access_token=` auth, `Origin` header, optional subprotocol offer, answers pings,
 * no `jsonrpc`, never `dst`, never answers a reply) and carries out what SimDeviceCore decides
 * (replies, notifications, reboots). Faults can be switched on to test the hub's defences.
 *
 * Events: 'connecting' (attempt), 'open', 'close' (code, reason), 'connect-failed' (message),
 * 'call' (method, params) for every hub frame with a method, 'ready' (after the Sys.GetInfo
 * reply of a session was written), 'reboot' (reason), 'boot' (booted: same|new|reverted),
 * 'hung' (an OTA fault left it offline for good), 'bad-frame' (reason) for hub frames it had to
 * drop. There is no 'error' event: a device never throws at its owner, it retries.
 *
 * `family` picks the firmware it imitates (PROTOCOL.md 6): 'mos' (Mongoose OS, the default) or
 * 'arduino' (the Arduino / ESP-IDF mDash library); see sim-core.ts for what differs.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import WebSocket, { type RawData } from 'ws';
import { RPC_ERRORS, HubError } from '../../shared/errors';
import type { Json, JsonObject } from '../../shared/types';
import { reuseFragmentList } from '../receiver-fragments';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { createPrng, seedFrom, type Prng } from './prng';
import {
  SimDeviceCore,
  type Effect,
  type Handled,
  type RebootReason,
  type SimOtaFaults,
} from './sim-core';
import { MDASH_LIBRARY_VERSION } from './sim-ota-arduino';
import type { SimFamily } from './sim-ota';
import { mergeInto } from './sim-config';
import {
  GARBAGE_KINDS,
  encodeNotification,
  encodeReply,
  encodeRequest,
  garbageFrame,
  parseHubFrame,
  type RpcId,
} from './sim-frames';
import type { SimFs } from './sim-fs';
import { SimTicker, type TickHandle, type Tickable } from './sim-ticker';
import { SIM_DATA_QUERY, SimSensors, readingParams } from './sim-sensors';

export interface SimFaults extends SimOtaFaults {
  /** Close the socket abruptly (no close frame) this long after each session opens. */
  dropAfterMs?: number;
  /** Hold every reply this long. */
  replyDelayMs?: number;
  /** Never answer (nor carry out) calls of these methods. */
  refuseMethods?: string[];
  /** 0..1: chance that a call is answered with an error reply instead of being carried out. */
  errorRate?: number;
  /** 0..1: chance that a frame the device sends is followed by an invalid one. */
  garbageRate?: number;
}

export interface SimDeviceOptions {
  /** `ws://host:port/api/v2/rpc` or `wss://...`. */
  url: string;
  /** The device password (the hub's device token). */
  password: string;
  /** Reported in Sys.GetInfo; derived from the password when absent. */
  id?: string;
  /** How the password travels (PROTOCOL.md 1). Default 'bearer'. */
  authMode?: 'bearer' | 'query';
  /** Subprotocol(s) to offer, e.g. 'json-rpc'. Default: none offered. */
  subprotocol?: string | string[];
  /** The firmware family it imitates (PROTOCOL.md 6). Default 'mos'. */
  family?: SimFamily;
  /** Sys.GetInfo `arch`. Default 'sim' (mos), 'esp32' (arduino). */
  arch?: string;
  /** Default '1.0.0' (mos); the library's version '1.2.16-idf' (arduino). */
  fwVersion?: string;
  /** Default '20250101-000000' (mos); the app's build time '20261205-120000' (arduino). */
  fwId?: string;
  app?: string;
  /** Sys.GetInfo `public_key`; '' sends an empty one. Default: derived from the password. */
  publicKey?: string;
  /** Periodic Dash.Shadow.Update every this many ms; 0 (default) = off. */
  shadowIntervalMs?: number;
  /** Periodic Log notification every this many ms; 0 (default) = off. */
  logIntervalMs?: number;
  /**
   * A sensor reading (sim-sensors.ts) stored every this many ms with `store()`, online or not:
   * spooled like mDashStore, collected by the hub's drain; 0 (default) = off.
   */
  dataIntervalMs?: number;
  /** Back-off between connection attempts; false = do not reconnect. Default 1 s .. 60 s. */
  reconnect?: BackoffOptions | false;
  faults?: SimFaults;
  /** Seeds faults, jitter and sensor noise. Default: derived from the password. */
  seed?: number;
  /** Files on the simulated flash at power-on. */
  files?: Record<string, Buffer>;
  /** Merged into the default saved configuration. */
  config?: JsonObject;
  /** The device's local state at every boot (what Shadow.Delta changes). */
  state?: JsonObject;
  /** Shared periodic timer (SimFleet passes one); a private one is made when needed. */
  ticker?: SimTicker;
  /** Timeout of device-originated calls. Default 30 s (PROTOCOL.md 2). */
  callTimeoutMs?: number;
  /** WebSocket handshake timeout. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** For wss:// to a hub with its own certificate. */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
  /** Reboot delay after OTA.End. Default 500 ms, as the mDash library. */
  otaRebootDelayMs?: number;
  /** Time a reboot takes before the device connects again. Default 0. */
  bootTimeMs?: number;
  /** Flash capacity for files. Default 1 MiB. */
  fsCapacityBytes?: number;
}

export interface SimDeviceEvents {
  connecting: [attempt: number];
  open: [];
  close: [code: number, reason: string];
  'connect-failed': [message: string];
  call: [method: string, params: unknown];
  ready: [];
  reboot: [reason: RebootReason];
  boot: [booted: 'same' | 'new' | 'reverted'];
  hung: [];
  'bad-frame': [reason: string];
}

export interface SimDeviceCounters {
  attempts: number;
  sessions: number;
  framesIn: number;
  framesOut: number;
  badFrames: number;
  garbageSent: number;
  /** Replies from the hub that matched no pending device call. */
  strayReplies: number;
}

/** A device-originated call that failed: an error reply, a timeout, or no connection. */
export class SimCallError extends Error {
  override readonly name = 'SimCallError';
  constructor(
    readonly kind: 'reply' | 'timeout' | 'offline',
    message: string,
    /** The error reply's code; 0 for timeouts and lost connections. */
    readonly code = 0,
  ) {
    super(message);
  }
}

const TICK_SHADOW = 0;
const TICK_LOG = 1;
const TICK_DATA = 2;
const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** stop() waits this long for the close handshake before cutting the socket. */
const CLOSE_GRACE_MS = 1000;

interface PendingCall {
  resolve(v: Json): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  method: string;
}

export class SimDevice extends EventEmitter<SimDeviceEvents> implements Tickable {
  readonly id: string;
  readonly core: SimDeviceCore;
  readonly counters: SimDeviceCounters = {
    attempts: 0,
    sessions: 0,
    framesIn: 0,
    framesOut: 0,
    badFrames: 0,
    garbageSent: 0,
    strayReplies: 0,
  };
  /** Milliseconds from start() to the first 'ready'; null until then. */
  timeToReadyMs: number | null = null;
  /** The last connection error (e.g. `Unexpected server response: 401`). */
  lastError: string | null = null;

  private readonly url: URL;
  private faults: SimFaults;
  private refused: ReadonlySet<string>;
  private readonly faultPrng: Prng;
  private readonly backoff: Backoff | null;
  private readonly callTimeoutMs: number;
  private ticker: SimTicker | null;
  private readonly ownsTicker: boolean;

  private ws: WebSocket | null = null;
  /** The TCP (or TLS) socket under `ws`, to send a handler's frames in one write (`deliver`). */
  private socket: Socket | null = null;
  private sessionOpen = false;
  private readyThisSession = false;
  private running = false;
  private startedAt = 0;
  private rebootPending = false;
  /** An OTA fault left the device down: no reconnects until stop() and start(). */
  private hung = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private dropTimer: NodeJS.Timeout | null = null;
  private rebootTimer: NodeJS.Timeout | null = null;
  private commitTimer: NodeJS.Timeout | null = null;
  private readonly replyTimers = new Set<NodeJS.Timeout>();
  private readonly pending = new Map<number, PendingCall>();
  private nextCallId = 1;
  private ticks: TickHandle[] = [];
  /** The data tick runs from start() to stop(), across sessions: offline readings are spooled. */
  private dataTick: TickHandle | null = null;
  private sensors: SimSensors | null = null;
  private readonly sensorSeed: number;

  constructor(private readonly opts: SimDeviceOptions) {
    super();
    this.url = parseWsUrl(opts.url);
    const seed = opts.seed ?? seedFrom(opts.password);
    this.id = opts.id ?? `sim-${sha256Hex(`id:${opts.password}`).slice(0, 12)}`;
    this.faults = opts.faults ?? {};
    this.refused = new Set(this.faults.refuseMethods ?? []);
    // Separate streams so that turning one feature on does not reshuffle the others.
    this.faultPrng = createPrng(seed ^ 0x5eed_fa17);
    this.sensorSeed = seed ^ 0x5e45_04a7;
    const reconnect = opts.reconnect ?? DEFAULT_BACKOFF;
    this.backoff = reconnect === false ? null : new Backoff(reconnect, createPrng(seed ^ 0xbac0ff));
    this.callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.ticker = opts.ticker ?? null;
    this.ownsTicker = opts.ticker === undefined;

    const config: JsonObject = {
      device: { id: this.id },
      dash: { enable: true, server: stripToken(this.url) },
      wifi: { sta: { enable: true, ssid: 'sim-lan' } },
      debug: { level: 2 },
    };
    if (opts.config) mergeInto(config, opts.config);
    const family = opts.family ?? 'mos';
    this.core = new SimDeviceCore({
      id: this.id,
      family,
      ...(opts.arch !== undefined ? { arch: opts.arch } : {}),
      otaFaults: this.faults,
      mac: macFor(this.id),
      publicKey:
        opts.publicKey ??
        Buffer.from(sha256Hex(`pk:${opts.password}`), 'hex')
          .subarray(0, 27)
          .toString('base64'),
      firmware:
        family === 'arduino'
          ? {
              fwVersion: opts.fwVersion ?? MDASH_LIBRARY_VERSION,
              fwId: opts.fwId ?? '20261205-120000',
              app: opts.app ?? 'sim',
            }
          : {
              fwVersion: opts.fwVersion ?? '1.0.0',
              fwId: opts.fwId ?? '20250101-000000',
              app: opts.app ?? 'sim',
            },
      config,
      state: opts.state,
      files: opts.files,
      prng: createPrng(seed),
      fsCapacityBytes: opts.fsCapacityBytes,
      otaRebootDelayMs: opts.otaRebootDelayMs,
    });
  }

  /** True while a session is open. */
  get connected(): boolean {
    return this.sessionOpen;
  }

  /** True once the hub has had this session's Sys.GetInfo reply. */
  get ready(): boolean {
    return this.sessionOpen && this.readyThisSession;
  }

  /** The simulated flash, for tests and demos. */
  get fs(): SimFs {
    return this.core.fs;
  }

  /** True when an OTA fault left the device offline for good (until stop() and start()). */
  get isHung(): boolean {
    return this.hung;
  }

  /** Replaces the faults while the device runs (a test turning a fault off before a retry). */
  setFaults(faults: SimFaults): void {
    this.faults = faults;
    this.refused = new Set(faults.refuseMethods ?? []);
    this.core.otaFaults = faults;
  }

  /** Powers the device on and starts connecting. Calling it again while running does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = performance.now();
    this.timeToReadyMs = null;
    this.armCommitTimer(this.core.boot('power-on').commitTimeoutMs);
    this.startDataTick();
    this.connect();
  }

  /** Powers off: cancels every timer, fails pending calls, closes the socket cleanly. */
  async stop(): Promise<void> {
    this.running = false;
    this.rebootPending = false;
    this.hung = false;
    for (const t of [this.reconnectTimer, this.dropTimer, this.rebootTimer, this.commitTimer]) {
      if (t !== null) clearTimeout(t);
    }
    this.reconnectTimer = this.dropTimer = this.rebootTimer = this.commitTimer = null;
    for (const t of this.replyTimers) clearTimeout(t);
    this.replyTimers.clear();
    this.cancelTicks();
    if (this.dataTick !== null) this.ticker?.cancel(this.dataTick);
    this.dataTick = null;
    if (this.ownsTicker) this.ticker?.stop();
    this.failPending('offline', 'device stopped');
    const ws = this.ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'device stopped');
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    });
  }

  /**
   * mDashStore (PROTOCOL.md 5): spool one record to `mdash.unsent` and tell the hub with
   * `DB.NewData`. Returns false when the flash is full (the record is lost, as on firmware).
   */
  store(query: string, params: Json[]): boolean {
    const { stored } = this.core.store(query, params);
    if (stored) this.sendNotification('DB.NewData', true);
    return stored;
  }

  /** Sends a notification (no id). Returns false when offline: firmware drops it then. */
  sendNotification(method: string, params?: Json): boolean {
    const ws = this.ws;
    if (ws === null || !this.sessionOpen) return false;
    this.sendText(ws, encodeNotification(method, params));
    return true;
  }

  /** A device-originated request with an id, e.g. `Dash.Shadow.Get`; resolves with `result`. */
  call(method: string, params?: Json, timeoutMs = this.callTimeoutMs): Promise<Json> {
    const ws = this.ws;
    if (ws === null || !this.sessionOpen) {
      return Promise.reject(new SimCallError('offline', `${method}: not connected`));
    }
    const id = this.nextCallId++;
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SimCallError('timeout', `${method}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, method });
      this.sendText(ws, encodeRequest(id, method, params));
    });
  }

  /** Periodic work from the shared ticker. */
  onTick(kind: number): void {
    if (kind === TICK_DATA) {
      const now = Date.now();
      this.sensors ??= new SimSensors(createPrng(this.sensorSeed));
      this.store(SIM_DATA_QUERY, readingParams(now, this.sensors.read(now)));
      return;
    }
    if (!this.sessionOpen) return;
    if (kind === TICK_SHADOW) this.sendNotification('Dash.Shadow.Update', this.core.shadowReport());
    else if (kind === TICK_LOG) this.sendNotification('Log', this.core.logRecord());
  }

  // ---- connection ------------------------------------------------------------------------

  private connect(): void {
    this.reconnectTimer = null;
    if (!this.running || this.hung) return;
    this.counters.attempts++;
    this.emit('connecting', this.counters.attempts);
    const target = new URL(this.url);
    const headers: Record<string, string> = {};
    if (this.opts.authMode === 'query') target.searchParams.set('access_token', this.opts.password);
    else headers.Authorization = `Bearer ${this.opts.password}`;
    const protocols = this.opts.subprotocol ?? [];
    const ws = new WebSocket(target, protocols, {
      headers,
      // The mDash library sends its configured URL as Origin (PROTOCOL.md 1: accept any).
      origin: stripToken(this.url),
      perMessageDeflate: false,
      autoPong: true, // PROTOCOL.md 1: answer pings; explicit so nobody turns it off by accident
      followRedirects: false,
      handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000,
      ...(this.opts.tls?.ca !== undefined ? { ca: this.opts.tls.ca } : {}),
      ...(this.opts.tls?.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: this.opts.tls.rejectUnauthorized }
        : {}),
    });
    this.ws = ws;
    this.socket = null;
    ws.once('upgrade', (res) => {
      if (ws === this.ws) this.socket = res.socket;
    });
    // One set of listeners per connection (not per frame); each checks it is still current.
    // The receiver exists once the socket is open; from then on it keeps one fragment list.
    let reuseFragments = (): void => undefined;
    ws.on('open', () => {
      reuseFragments = reuseFragmentList(ws);
      this.onOpen(ws);
    });
    ws.on('message', (data, isBinary) => {
      reuseFragments();
      this.onMessage(ws, data, isBinary);
    });
    ws.on('error', (err) => {
      if (ws === this.ws) this.lastError = err.message;
    });
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.sessionOpen = true;
    this.readyThisSession = false;
    this.lastError = null;
    this.counters.sessions++;
    this.backoff?.reset(); // Mongoose OS starts over after a connection that opened
    const drop = this.faults.dropAfterMs;
    if (drop !== undefined && drop >= 0) {
      this.dropTimer = setTimeout(() => {
        this.dropTimer = null;
        if (ws === this.ws) ws.terminate(); // abrupt: no close frame
      }, drop);
    }
    this.scheduleTicks();
    this.emit('open');
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = null;
    this.socket = null;
    const wasOpen = this.sessionOpen;
    this.sessionOpen = false;
    this.readyThisSession = false;
    if (this.dropTimer !== null) clearTimeout(this.dropTimer);
    this.dropTimer = null;
    this.cancelTicks();
    this.failPending('offline', 'connection closed');
    // Mongoose OS drops an upload with its session; the mDash library keeps it open.
    this.core.ota.onDisconnect();
    if (wasOpen) this.emit('close', code, reason);
    else this.emit('connect-failed', this.lastError ?? `connection closed (${code})`);
    if (!this.running || this.hung) return;
    if (this.rebootPending) {
      this.bootAndConnect();
      return;
    }
    if (this.backoff === null) return;
    this.reconnectTimer = setTimeout(() => this.connect(), this.backoff.next());
  }

  // ---- frames ----------------------------------------------------------------------------

  private onMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (ws !== this.ws) return;
    this.counters.framesIn++;
    if (isBinary) return this.badFrame('binary frame');
    const frame = parseHubFrame(rawToString(data));
    switch (frame.kind) {
      case 'call':
        this.emit('call', frame.method, frame.params);
        this.onCall(ws, frame.id, frame.tag, frame.method, frame.params);
        return;
      case 'notification':
        this.emit('call', frame.method, frame.params);
        this.onCall(ws, undefined, undefined, frame.method, frame.params);
        return;
      case 'reply':
        return this.onReply(frame.id, frame.result, frame.error);
      case 'bad':
        // Dropped without an answer: answering errors can loop (PROTOCOL.md 2).
        return this.badFrame(frame.reason);
    }
  }

  private onCall(
    ws: WebSocket,
    id: RpcId | undefined,
    tag: Json | undefined,
    method: string,
    params: unknown,
  ): void {
    if (this.refused.has(method)) return;
    const rate = this.faults.errorRate ?? 0;
    const handled: Handled =
      rate > 0 && this.faultPrng.next() < rate
        ? {
            outcome: { error: { code: RPC_ERRORS.internal, message: 'simulated failure' } },
            effects: [],
          }
        : this.core.handle(method, params);
    const slowWrite = method === 'OTA.Write' ? (this.faults.otaWriteDelayMs ?? 0) : 0;
    const delay = (this.faults.replyDelayMs ?? 0) + slowWrite;
    if (delay <= 0) return this.deliver(ws, id, tag, method, handled);
    const timer = setTimeout(() => {
      this.replyTimers.delete(timer);
      this.deliver(ws, id, tag, method, handled);
    }, delay);
    this.replyTimers.add(timer);
  }

  /**
   * Sends the notifications the handler sent itself (`beforeReply`), then the reply (calls only),
   * then carries out the other effects in order.
   *
   * Those notifications and the reply leave in ONE write, as from the firmware: Mongoose's
   * `mg_ws_send` only appends to the connection's send buffer, which the next `mg_mgr_poll`
   * writes out whole, so the Arduino library's `State.Set` and the `OTA.Write` reply behind it
   * reach the hub in one TCP segment. Sent as two writes, every chunk cost the hub (and the
   * bare floor of bench/ota-single.ts) an extra wake-up and read.
   */
  private deliver(
    ws: WebSocket,
    id: RpcId | undefined,
    tag: Json | undefined,
    method: string,
    handled: Handled,
  ): void {
    let corked: Socket | null = null;
    for (const effect of handled.effects) {
      if (effect.kind !== 'notify' || effect.beforeReply !== true) continue;
      if (corked === null && ws === this.ws && this.socket !== null) {
        corked = this.socket;
        corked.cork();
      }
      this.runEffect(effect);
    }
    try {
      if (id !== undefined && handled.reply !== false && ws === this.ws && this.sessionOpen) {
        const text = encodeReply(id, tag, handled.outcome);
        const isInfo = method === 'Sys.GetInfo' && 'result' in handled.outcome;
        this.sendText(ws, text, isInfo ? () => this.markReady(ws) : undefined);
      }
    } finally {
      corked?.uncork();
    }
    for (const effect of handled.effects) {
      if (effect.kind !== 'notify' || effect.beforeReply !== true) this.runEffect(effect);
    }
  }

  private onReply(
    id: RpcId,
    result: Json | undefined,
    error: { code: number; message: string } | undefined,
  ): void {
    const call = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (call === undefined) {
      this.counters.strayReplies++;
      return;
    }
    this.pending.delete(id as number);
    clearTimeout(call.timer);
    if (error !== undefined) {
      call.reject(new SimCallError('reply', `${call.method}: ${error.message}`, error.code));
    } else {
      call.resolve(result ?? null);
    }
  }

  private badFrame(reason: string): void {
    this.counters.badFrames++;
    this.emit('bad-frame', reason);
  }

  private sendText(ws: WebSocket, text: string, onWritten?: () => void): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (onWritten === undefined) ws.send(text);
    else ws.send(text, (err) => (err ? undefined : onWritten()));
    this.counters.framesOut++;
    const rate = this.faults.garbageRate ?? 0;
    if (rate > 0 && this.faultPrng.next() < rate) {
      const kind = GARBAGE_KINDS[this.faultPrng.int(GARBAGE_KINDS.length)] ?? 'invalid-json';
      ws.send(garbageFrame(kind));
      this.counters.garbageSent++;
    }
  }

  private markReady(ws: WebSocket): void {
    if (ws !== this.ws || !this.sessionOpen || this.readyThisSession) return;
    this.readyThisSession = true;
    if (this.timeToReadyMs === null) this.timeToReadyMs = performance.now() - this.startedAt;
    this.emit('ready');
  }

  private failPending(kind: 'offline', message: string): void {
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new SimCallError(kind, `${call.method}: ${message}`));
      this.pending.delete(id);
    }
  }

  // ---- effects, reboots, periodic work ---------------------------------------------------

  private runEffect(effect: Effect): void {
    switch (effect.kind) {
      case 'notify':
        this.sendNotification(effect.method, effect.params);
        return;
      case 'reboot':
        if (this.rebootTimer === null && this.running) {
          const hang = effect.hang === true;
          this.rebootTimer = setTimeout(() => (hang ? this.hang() : this.reboot()), effect.delayMs);
        }
        return;
      case 'drop':
        this.ws?.terminate(); // abrupt: no close frame; reconnects with the usual back-off
        return;
      case 'committed':
        if (this.commitTimer !== null) clearTimeout(this.commitTimer);
        this.commitTimer = null;
        return;
    }
  }

  /** A software reset: the socket dies without a close frame, as on real hardware. */
  private reboot(): void {
    this.rebootTimer = null;
    if (!this.running) return;
    this.emit('reboot', 'soft reset');
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ws = this.ws;
    if (ws !== null) {
      this.rebootPending = true;
      ws.terminate(); // onClose boots and reconnects
    } else {
      this.bootAndConnect();
    }
  }

  /** The fault "never comes back": the device goes down as for a reboot and stays down. */
  private hang(): void {
    this.rebootTimer = null;
    if (!this.running) return;
    this.emit('reboot', 'soft reset');
    this.hung = true;
    for (const t of [this.reconnectTimer, this.commitTimer]) if (t !== null) clearTimeout(t);
    this.reconnectTimer = this.commitTimer = null;
    this.ws?.terminate();
    this.emit('hung');
  }

  private bootAndConnect(): void {
    this.rebootPending = false;
    if (this.commitTimer !== null) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    const outcome = this.core.boot('soft reset');
    this.emit('boot', outcome.booted);
    this.armCommitTimer(outcome.commitTimeoutMs);
    this.backoff?.reset(); // a fresh boot connects at once, once it has booted
    const bootTime = this.opts.bootTimeMs ?? 0;
    if (bootTime <= 0) return this.connect();
    this.reconnectTimer = setTimeout(() => this.connect(), bootTime);
  }

  private armCommitTimer(ms: number | null): void {
    if (ms === null) return;
    // Not committed in time: the watchdog reboots and the boot loader reverts (Mongoose OS).
    this.commitTimer = setTimeout(() => {
      this.commitTimer = null;
      this.reboot();
    }, ms);
  }

  private startDataTick(): void {
    const ms = this.opts.dataIntervalMs ?? 0;
    if (ms <= 0 || this.dataTick !== null) return;
    const ticker = this.ensureTicker(ms);
    this.dataTick = ticker.every(
      ms,
      this,
      TICK_DATA,
      ticker.resolutionMs + this.faultPrng.next() * ms,
    );
  }

  private ensureTicker(smallestMs: number): SimTicker {
    this.ticker ??= new SimTicker({ resolutionMs: Math.max(1, Math.min(100, smallestMs)) });
    return this.ticker;
  }

  private scheduleTicks(): void {
    const shadow = this.opts.shadowIntervalMs ?? 0;
    const log = this.opts.logIntervalMs ?? 0;
    if (shadow <= 0 && log <= 0) return; // no timers at all when periodic work is off
    const ticker = this.ensureTicker(Math.min(...[shadow, log].filter((v) => v > 0)));
    // A random phase spreads a fleet's reports over the period.
    const phase = (ms: number): number => ticker.resolutionMs + this.faultPrng.next() * ms;
    if (shadow > 0) this.ticks.push(ticker.every(shadow, this, TICK_SHADOW, phase(shadow)));
    if (log > 0) this.ticks.push(ticker.every(log, this, TICK_LOG, phase(log)));
  }

  private cancelTicks(): void {
    for (const t of this.ticks) this.ticker?.cancel(t);
    this.ticks = [];
  }
}

function parseWsUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HubError('bad_request', `not a URL: ${url}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new HubError('bad_request', `device URL must be ws:// or wss://, got ${url}`);
  }
  return parsed;
}

function stripToken(url: URL): string {
  const u = new URL(url);
  u.searchParams.delete('access_token');
  return u.toString();
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A stable, locally administered MAC, printed as Mongoose OS does (12 hex digits). */
function macFor(id: string): string {
  const b = Buffer.from(sha256Hex(`mac:${id}`).slice(0, 12), 'hex');
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return b.toString('hex').toUpperCase();
}
