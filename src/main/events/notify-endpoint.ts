/**
 * The management notification stream `/api/v2/notify` (PROTOCOL.md 7): master key in the header
 * or `access_token`, checked before the upgrade.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { NotificationBus } from './notification-bus';
import { attachNotifySocket, type NotifyStreamSocket } from './notify-socket';
import { TurnFrames } from './turn-frames';
import { requestSecret } from '../gateway/upgrade-auth';
import { rejectUpgrade } from '../gateway/upgrade-reject';
import { HubError } from '../../shared/errors';
import type { KeysRepo } from '../store/keys-repo';

/** Close code for a stream whose API key was deleted. */
export const KEY_REVOKED_CLOSE_CODE = 4003;

export class NotifyEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly keyOf = new WeakMap<WebSocket, string>();
  private readonly unsubscribe: () => void;
  /** Every stream here carries every notification: their frames are made once (turn-frames.ts). */
  private readonly turn: TurnFrames;
  dropped = 0;

  constructor(
    private readonly bus: NotificationBus,
    private readonly keys: KeysRepo,
    private readonly maxBufferedBytes: number,
  ) {
    this.turn = new TurnFrames(bus);
    this.unsubscribe = keys.onRemoved((id) => {
      for (const ws of this.wss.clients) {
        if (this.keyOf.get(ws) === id) ws.close(KEY_REVOKED_CLOSE_CODE, 'API key revoked');
      }
    });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const secret = requestSecret(req);
    const key =
      secret === null ? undefined : this.keys.verify(secret, Math.floor(Date.now() / 1000));
    if (!key) {
      rejectUpgrade(socket, new HubError('unauthorized', 'Unauthorized'));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.keyOf.set(ws, key.id);
      attachNotifySocket(this.bus, ws, {
        socket: socket as Duplex & NotifyStreamSocket,
        turn: this.turn,
        maxBufferedBytes: this.maxBufferedBytes,
        onDropped: () => this.dropped++,
      });
    });
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.turn.close();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
