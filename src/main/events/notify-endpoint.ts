/**
 * The management notification stream `/api/v2/notify` (PROTOCOL.md 7): master key in the header
 * or `access_token`, checked before the upgrade.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { NotificationBus } from './notification-bus';
import { attachNotifySocket } from './notify-socket';
import { requestSecret } from '../gateway/upgrade-auth';
import { rejectUpgrade } from '../gateway/device-gateway';
import type { KeysRepo } from '../store/keys-repo';

export class NotifyEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  dropped = 0;

  constructor(
    private readonly bus: NotificationBus,
    private readonly keys: KeysRepo,
    private readonly maxBufferedBytes: number,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const secret = requestSecret(req);
    if (secret === null || !this.keys.verify(secret, Math.floor(Date.now() / 1000))) {
      rejectUpgrade(socket, 401, 'Unauthorized');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      attachNotifySocket(this.bus, ws, {
        maxBufferedBytes: this.maxBufferedBytes,
        onDropped: () => this.dropped++,
      });
    });
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
