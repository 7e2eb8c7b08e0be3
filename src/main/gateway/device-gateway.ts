/**
 * The device WebSocket endpoint `/api/v2/rpc` (PROTOCOL.md 1): authentication before the upgrade,
 * one live session per device (with damping when two devices share a password), liveness pings,
 * session steps, and the call path REST uses.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Json } from '../../shared/types';
import { HubError } from '../../shared/errors';
import type { HubConfig } from '../config';
import type { NotificationBus } from '../events/notification-bus';
import type { DeviceLink, DeviceService } from '../devices/device-service';
import type { AccountDb } from '../store/account-db';
import { DeviceSession, type SessionDeps } from './device-session';
import { rejectUpgrade } from './upgrade-reject';
import { FrameStats } from './frame-stats';
import { createDeviceMethods, type DeviceMethodTable } from './device-methods';
import { runSessionSteps } from './session-steps';
import { formatPeer, pickSubprotocol, requestSecret, type PeerAddress } from './upgrade-auth';
import type { Corkable, TurnWrites } from './turn-writes';
import { DuplicateDamper } from './duplicate-damper';
import { IntervalQueue } from './interval-queue';
import { StepQueue } from './step-queue';
import { DeviceData } from '../data/device-data';

export interface GatewayLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface GatewayDeps {
  config: HubConfig;
  devices: DeviceService;
  bus: NotificationBus;
  account: AccountDb;
  log: GatewayLogger;
  /** Ports the hub listens on (HTTP, TLS): HTTP.Request never goes there (PROTOCOL.md 2). */
  ownPorts?: () => number[];
  /** Shared with the REST RPC answers: the turn's writes leave together (turn-writes.ts). */
  turnWrites: TurnWrites;
}

/** Close code sent to a session replaced by a newer login of the same device. */
export const REPLACED_CLOSE_CODE = 4001;

export class DeviceGateway implements DeviceLink {
  readonly stats: FrameStats;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, DeviceSession>();
  private readonly damper: DuplicateDamper;
  /** Session steps of a bounded number of devices at once: logins go first (step-queue.ts). */
  private readonly steps: StepQueue;
  drainSpool: ((s: DeviceSession) => Promise<void>) | undefined;
  /** Logins admitted since start: how fast they arrive tells a login storm (cli/heap-storm-mode.ts). */
  private admitted = 0;
  /** DB.Store, DB.Save, the spool drain and their counters (PROTOCOL.md 5). */
  readonly data: DeviceData;

  constructor(private readonly deps: GatewayDeps) {
    this.stats = new FrameStats(deps.log);
    this.damper = new DuplicateDamper(deps.config.timings);
    const { limits, timings } = deps.config;
    this.steps = new StepQueue({
      running: limits.maxSessionStepsRunning,
      whileLoggingIn: limits.maxSessionStepsWhileLoggingIn,
      slotMs: timings.sessionStepSlotMs,
      quietMs: timings.loginQuietMs,
    });
    this.data = new DeviceData({
      account: deps.account,
      limits: deps.config.data,
      acl: (id) => deps.devices.get(id).acl,
      onDeviceChange: (changed) =>
        deps.bus.subscribe(({ n }) => {
          if (n.name === 'updated' || n.name === 'created' || n.name === 'deleted') changed(n.id);
        }),
      publish: (name, id, data) => deps.bus.publish({ name, id, data }),
      log: deps.log,
    });
    this.drainSpool = (s) => this.data.drain(s);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.config.limits.maxFrameHardBytes,
      perMessageDeflate: false,
      // Invalid UTF-8 is a bad frame like any other (PROTOCOL.md 2): the codec checks it and the
      // frame is dropped and counted, where ws would close the session with 1007.
      skipUTF8Validation: true,
      handleProtocols: (offered) => pickSubprotocol(offered),
    });
  }

  get onlineCount(): number {
    return this.sessions.size;
  }

  /** Logins admitted since start (a device that logs in twice counts twice). */
  get logins(): number {
    return this.admitted;
  }

  /** Devices whose session steps wait for their turn (step-queue.ts). */
  get stepsQueued(): number {
    return this.steps.queued;
  }

  isOnline(id: string): boolean {
    return this.sessions.has(id);
  }

  session(id: string): DeviceSession | undefined {
    return this.sessions.get(id);
  }

  call(id: string, method: string, params: Json | undefined, timeoutMs?: number): Promise<Json> {
    const s = this.sessions.get(id);
    if (!s) return Promise.reject(new HubError('device_offline', `device '${id}' is offline`));
    return s.call(method, params, timeoutMs);
  }

  /**
   * Ends a device's session now (device deleted): it leaves the session table at once, so a late
   * close event cannot mark a re-created device of the same id offline.
   */
  disconnect(id: string, reason: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    s.markClosed(reason);
    s.ws.close(1000, reason);
    setTimeout(() => s.ws.terminate(), 1000).unref();
  }

  /** Authenticates and upgrades; a bad password gets HTTP 401 before any upgrade (PROTOCOL.md 1). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const secret = requestSecret(req);
    const rec = secret === null ? undefined : this.deps.devices.byToken(secret);
    if (!rec) {
      rejectUpgrade(socket, new HubError('unauthorized', 'Unauthorized'));
      return;
    }
    const incumbent = this.sessions.get(rec.id);
    if (incumbent && this.damper.contested(rec.id, incumbent.replacedAt, Date.now())) {
      void this.contest(rec.id, incumbent, req, socket, head);
      return;
    }
    this.steps.noteLogin();
    this.admitted++;
    this.accept(rec.id, req, socket, head);
  }

  private accept(deviceId: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      rejectUpgrade(socket, new HubError('hub_stopping', 'the hub is stopping'));
      return;
    }
    // The peer's address is read only when a log line needs it (DeviceSession.remote): asking
    // the kernel for it at every connect was 1.5% of a storm, and its strings stayed per session.
    const peer = req.socket;
    // The 101 answer and the first liveness ping leave in one write (issue 11: in a connect storm
    // the hub's socket writes were a tenth of its time, one syscall per frame).
    socket.cork();
    try {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.open(deviceId, ws, peer));
    } finally {
      socket.uncork();
    }
  }

  /**
   * A newcomer would replace a session that itself replaced another a moment ago: two devices
   * share a password and are kicking each other out. If the incumbent still answers a ping, the
   * newcomer is refused with 429 and a doubling Retry-After; if it does not (its device rebooted
   * and the old socket is half-open), the newcomer is simply let in.
   */
  private async contest(
    deviceId: string,
    incumbent: DeviceSession,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): Promise<void> {
    // Nobody else listens on the raw socket while we wait: a reset must not become uncaught.
    const ignore = (): void => undefined;
    socket.on('error', ignore);
    const alive = await incumbent.probe(this.deps.config.timings.duplicateProbeMs);
    socket.off('error', ignore);
    if (socket.destroyed) return;
    if (!alive || this.sessions.get(deviceId) !== incumbent) {
      this.accept(deviceId, req, socket, head);
      return;
    }
    const holdOffMs = this.damper.refuse(deviceId, Date.now());
    const newcomer = formatPeer(req.socket);
    this.stats.disconnect('duplicate_refused');
    this.deps.log.warn(
      { device: deviceId, old: incumbent.remote, new: newcomer, holdOffMs },
      'duplicate: two devices use one password; newcomer refused',
    );
    this.deps.bus.publish({
      name: 'duplicate',
      id: deviceId,
      data: { old: incumbent.remote, new: newcomer, retry_after_s: Math.ceil(holdOffMs / 1000) },
    });
    rejectUpgrade(
      socket,
      new HubError(
        'duplicate_session',
        `device '${deviceId}' is connected from ${incumbent.remote}`,
      ),
      { 'Retry-After': String(Math.ceil(holdOffMs / 1000)) },
    );
  }

  private open(deviceId: string, ws: WebSocket, peer: PeerAddress & Corkable): void {
    if (this.closing) {
      ws.terminate();
      return;
    }
    const { devices, log } = this.deps;
    const previous = this.sessions.get(deviceId);
    const session = new DeviceSession(deviceId, ws, peer, this.sessionDeps);
    this.sessions.set(deviceId, session);
    if (previous) {
      // One live session per device: the older socket goes (PROTOCOL.md 1).
      session.replacedAt = Date.now();
      log.info(
        { device: deviceId, old: previous.remote, new: session.remote },
        'device logged in again: older session replaced',
      );
      previous.markClosed('replaced by a new session');
      previous.ws.close(REPLACED_CLOSE_CODE, 'replaced by a new session');
      setTimeout(() => previous.ws.terminate(), 1000).unref();
    }
    ws.on('error', (err) =>
      log.debug({ device: deviceId, err: err.message }, 'device socket error'),
    );
    ws.on('close', () => this.onClose(session));
    session.startLiveness();
    const deps = { devices, log, drainSpool: this.drainSpool };
    this.steps.push(() => runSessionSteps(session, deps));
  }

  private get sessionDeps(): SessionDeps {
    const { config, devices, bus, log } = this.deps;
    const { limits, timings } = config;
    return (this.sessionDepsCache ??= {
      devices,
      bus,
      stats: this.stats,
      methods: this.methods,
      maxMessageBytes: limits.maxMessageBytes,
      maxReplyBytes: limits.maxReplyBytes,
      maxPendingCalls: limits.maxPendingCallsPerDevice,
      rpcTimeoutMs: timings.rpcTimeoutMs,
      rateLimit: {
        framesPerSecond: limits.deviceFramesPerSecond,
        frameBurst: limits.deviceFrameBurst,
        bytesPerSecond: limits.deviceBytesPerSecond,
        byteBurst: limits.deviceByteBurst,
        abuseMs: timings.rateLimitDisconnectMs,
        maxPauseMs: Math.min(1000, timings.pingIntervalMs / 4),
      },
      pingIntervalMs: timings.pingIntervalMs,
      livenessClock: new IntervalQueue(timings.pingIntervalMs),
      maxMissedPongs: timings.maxMissedPongs,
      turnWrites: this.deps.turnWrites,
      log,
    });
  }
  private sessionDepsCache: SessionDeps | undefined;

  private onClose(session: DeviceSession): void {
    session.markClosed('device disconnected');
    if (this.sessions.get(session.deviceId) !== session) return; // replaced: still online
    this.sessions.delete(session.deviceId);
    const id = session.deviceId;
    const done = this.deps.devices
      .setOnline(id, false)
      .then(() => {
        // Offline devices leave the shadow cache unless a newer session came meanwhile.
        if (!this.sessions.has(id)) this.deps.devices.evictIfIdle(id);
      })
      .catch((err: unknown) => {
        if (err instanceof HubError && err.kind === 'device_not_found') return; // deleted device
        this.deps.log.warn({ device: id, err: String(err) }, 'marking offline failed');
      })
      .finally(() => this.inflight.delete(done));
    this.inflight.add(done);
  }

  /** Offline writes still running; close() waits for them before the store closes. */
  private readonly inflight = new Set<Promise<void>>();

  private get methods(): DeviceMethodTable {
    return (this.methodTable ??= createDeviceMethods({
      devices: this.deps.devices,
      account: this.deps.account,
      data: this.data,
      http: {
        limits: this.deps.config.data,
        bus: this.deps.bus,
        ownPorts: this.deps.ownPorts ?? (() => [this.deps.config.port]),
        log: this.deps.log,
      },
    }));
  }
  private methodTable: DeviceMethodTable | undefined;

  /** Set by close(): upgrades that finish after it are refused (accept) or cut (open). */
  private closing = false;

  /**
   * Closes every session, recording each device offline before the store goes away. A device
   * that reconnects while the hub stops gets no session: `wss.close` calls back only once every
   * socket it tracks is gone, and one left open made the stop wait for that device forever.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.steps.close();
    await this.data.close();
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled([
      ...this.inflight,
      ...sessions.map((s) => {
        s.markClosed('hub stopping');
        s.ws.close(1001, 'hub stopping');
        setTimeout(() => s.ws.terminate(), 500).unref();
        return this.deps.devices.setOnline(s.deviceId, false);
      }),
    ]);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
