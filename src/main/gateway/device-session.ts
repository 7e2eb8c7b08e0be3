/**
 * One authenticated device socket (PROTOCOL.md 1-2): frame dispatch, calls we send with their
 * pending-call table, liveness bookkeeping. Identity is the socket; `src`/`dst`/`key` in frames
 * are ignored by the codec.
 */
import type { RawData, WebSocket } from 'ws';
import type { Json } from '../../shared/types';
import { HubError, RPC_ERRORS } from '../../shared/errors';
import { decodeDeviceFrame, type RpcId } from '../rpc/frame-codec';
import { encodeCall, encodeError, encodeResult } from '../rpc/frame-encode';
import {
  PendingCalls,
  RpcClosedError,
  RpcRemoteError,
  RpcTimeoutError,
} from '../rpc/pending-calls';
import type { NotificationBus } from '../events/notification-bus';
import type { DeviceService } from '../devices/device-service';
import type { FrameStats } from './frame-stats';
import { NO_REPLY, type DeviceMethodTable } from './device-methods';

export interface SessionDeps {
  devices: DeviceService;
  bus: NotificationBus;
  stats: FrameStats;
  methods: DeviceMethodTable;
  maxMessageBytes: number;
  rpcTimeoutMs: number;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

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

export class DeviceSession {
  readonly pending: PendingCalls;
  /** Pings sent and not yet answered by a pong or any frame (PROTOCOL.md 1 liveness). */
  awaitingPongs = 0;
  closed = false;
  readonly connectedAt = Date.now();

  constructor(
    readonly deviceId: string,
    readonly ws: WebSocket,
    private readonly deps: SessionDeps,
  ) {
    this.pending = new PendingCalls({ timeoutMs: deps.rpcTimeoutMs });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.awaitingPongs = 0));
  }

  /** Calls a device method; emits `rpc.in.<method>` (PROTOCOL.md 2). Rejects with a HubError. */
  call(method: string, params: Json | undefined, timeoutMs?: number): Promise<Json> {
    if (this.closed) {
      return Promise.reject(new HubError('device_offline', `device '${this.deviceId}' is offline`));
    }
    const { id, promise } = this.pending.start(method, timeoutMs);
    this.deps.bus.publish({ name: `rpc.in.${method}`, id: this.deviceId, data: params ?? null });
    this.send(encodeCall(id, method, params, `$sys/${this.deviceId}`));
    return promise.catch((err: unknown) => {
      throw toHubError(err, this.deviceId, method);
    });
  }

  send(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.deps.stats.framesOut++;
    this.ws.send(text);
  }

  /** Marks the session over and fails its pending calls at once (PROTOCOL.md 1 "On close"). */
  markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.failAll(reason);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const { stats, devices, bus } = this.deps;
    stats.framesIn++;
    this.awaitingPongs = 0;
    devices.touch(this.deviceId);
    if (isBinary) {
      stats.drop(this.deviceId, 'binary', 'binary frame');
      return;
    }
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const frame = decodeDeviceFrame(raw, this.deps.maxMessageBytes);
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
          name: `rpc.out.${frame.method}`,
          id: this.deviceId,
          data: frame.params ?? null,
        });
        const id = frame.kind === 'request' ? frame.id : undefined;
        void this.dispatch(frame.method, frame.params, id, frame.tag);
        return;
      }
    }
  }

  private async dispatch(
    method: string,
    params: Json | undefined,
    id: RpcId | undefined,
    tag: Json | undefined,
  ): Promise<void> {
    const handler = this.deps.methods.get(method);
    if (!handler) {
      if (id !== undefined) {
        this.send(encodeError(id, RPC_ERRORS.method_not_found, 'method not found', tag));
      }
      return;
    }
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
    default:
      return RPC_ERRORS.internal;
  }
}
