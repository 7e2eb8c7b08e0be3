/**
 * The device public notification stream `/api/v2/m/device/notify` (PROTOCOL.md 4, 7, 8): the
 * device ACL's `public_key` in the header or `access_token`, checked before the upgrade; the
 * stream carries only this device's notifications, filtered by its ACL as it is at each
 * notification (events/acl-notification.ts). When the key stops naming the device (ACL changed,
 * device deleted) the stream is closed with 4003.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { NotificationBus } from './notification-bus';
import { attachNotifySocket } from './notify-socket';
import { aclNotificationText } from './acl-notification';
import { KEY_REVOKED_CLOSE_CODE } from './notify-endpoint';
import { requestSecret } from '../gateway/upgrade-auth';
import { rejectUpgrade } from '../gateway/upgrade-reject';
import { HubError } from '../../shared/errors';
import type { PublicKeyIndex } from '../devices/public-key-index';

interface Stream {
  id: string;
  digest: Buffer;
}

export class DeviceNotifyEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  /** Open streams by device id: an ACL change looks at that device's streams only. */
  private readonly streams = new Map<string, Map<WebSocket, Stream>>();
  dropped = 0;

  constructor(
    private readonly bus: NotificationBus,
    private readonly index: PublicKeyIndex,
    private readonly maxBufferedBytes: number,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const entry = this.index.resolve(requestSecret(req));
    if (!entry) {
      rejectUpgrade(socket, new HubError('unauthorized', 'missing or unknown device public key'));
      return;
    }
    const stream: Stream = { id: entry.id, digest: entry.digest };
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      let mine = this.streams.get(stream.id);
      if (!mine) this.streams.set(stream.id, (mine = new Map()));
      mine.set(ws, stream);
      ws.on('close', () => this.forget(stream.id, ws));
      attachNotifySocket(this.bus, ws, {
        socket,
        deviceId: stream.id,
        maxBufferedBytes: this.maxBufferedBytes,
        transform: (p) => {
          const current = this.index.current(stream.id, stream.digest);
          return current ? aclNotificationText(p, current.compiled) : null;
        },
        onDropped: () => this.dropped++,
      });
    });
  }

  /** Called after a device's ACL changed or it was deleted: closes streams whose key is gone. */
  recheck(deviceId: string): void {
    const mine = this.streams.get(deviceId);
    if (!mine) return;
    for (const [ws, s] of mine) {
      if (this.index.current(s.id, s.digest)) continue;
      this.forget(deviceId, ws);
      ws.close(KEY_REVOKED_CLOSE_CODE, 'device public key revoked');
    }
  }

  get streamCount(): number {
    let n = 0;
    for (const mine of this.streams.values()) n += mine.size;
    return n;
  }

  private forget(deviceId: string, ws: WebSocket): void {
    const mine = this.streams.get(deviceId);
    mine?.delete(ws);
    if (mine?.size === 0) this.streams.delete(deviceId);
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
