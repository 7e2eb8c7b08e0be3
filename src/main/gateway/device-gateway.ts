/**
 * The device WebSocket endpoint `/api/v2/rpc` (PROTOCOL.md 1): authentication before the upgrade,
 * one live session per device, liveness pings, session steps, and the call path REST uses.
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
import { DeviceSession } from './device-session';
import { rejectUpgrade } from './upgrade-reject';
import { FrameStats } from './frame-stats';
import { createDeviceMethods, type DeviceMethodTable } from './device-methods';
import { runSessionSteps } from './session-steps';
import { pickSubprotocol, requestSecret } from './upgrade-auth';

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
}

/** Close code sent to a session replaced by a newer login of the same device. */
export const REPLACED_CLOSE_CODE = 4001;

export class DeviceGateway implements DeviceLink {
  readonly stats: FrameStats;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, DeviceSession>();
  private readonly heartbeat: NodeJS.Timeout;
  drainSpool: ((s: DeviceSession) => Promise<void>) | undefined;

  constructor(private readonly deps: GatewayDeps) {
    this.stats = new FrameStats(deps.log);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.config.limits.maxFrameHardBytes,
      perMessageDeflate: false,
      handleProtocols: (offered) => pickSubprotocol(offered),
    });
    this.heartbeat = setInterval(() => this.pingAll(), deps.config.timings.pingIntervalMs);
    this.heartbeat.unref();
  }

  get onlineCount(): number {
    return this.sessions.size;
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
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(rec.id, ws));
  }

  private open(deviceId: string, ws: WebSocket): void {
    const { config, devices, bus, log } = this.deps;
    const previous = this.sessions.get(deviceId);
    const session = new DeviceSession(deviceId, ws, {
      devices,
      bus,
      stats: this.stats,
      methods: this.methods,
      maxMessageBytes: config.limits.maxMessageBytes,
      rpcTimeoutMs: config.timings.rpcTimeoutMs,
      log,
    });
    this.sessions.set(deviceId, session);
    if (previous) {
      // One live session per device: the older socket goes (PROTOCOL.md 1).
      previous.markClosed('replaced by a new session');
      previous.ws.close(REPLACED_CLOSE_CODE, 'replaced by a new session');
      setTimeout(() => previous.ws.terminate(), 1000).unref();
    }
    ws.on('error', (err) =>
      log.debug({ device: deviceId, err: err.message }, 'device socket error'),
    );
    ws.on('close', () => this.onClose(session));
    // The first liveness ping goes out at once, so 3 missed pongs take 3 intervals (60 s).
    session.awaitingPongs = 1;
    ws.ping();
    void runSessionSteps(session, { devices, log, drainSpool: this.drainSpool });
  }

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

  private pingAll(): void {
    const max = this.deps.config.timings.maxMissedPongs;
    for (const s of this.sessions.values()) {
      if (s.awaitingPongs >= max) {
        this.deps.log.info({ device: s.deviceId }, 'device missed pongs: dropping');
        s.ws.terminate();
        continue;
      }
      s.awaitingPongs++;
      s.ws.ping();
    }
  }

  private get methods(): DeviceMethodTable {
    return (this.methodTable ??= createDeviceMethods({
      devices: this.deps.devices,
      account: this.deps.account,
    }));
  }
  private methodTable: DeviceMethodTable | undefined;

  /** Closes every session, recording each device offline before the store goes away. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
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
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
