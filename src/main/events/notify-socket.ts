/**
 * Attaches a WebSocket to the bus as a notification stream (PROTOCOL.md 7). A subscriber that
 * cannot keep up (its socket's send buffer passes the limit) is dropped with close code 1013
 * rather than allowed to grow the hub's memory without bound.
 */
import type { WebSocket } from 'ws';
import type { NotificationBus, Published, SubscribeOptions } from './notification-bus';

export const SLOW_CONSUMER_CLOSE_CODE = 1013;

export interface NotifySocketOptions extends SubscribeOptions {
  maxBufferedBytes: number;
  /** Rewrites or filters a notification for this subscriber (ACL filtering); null drops it. */
  transform?: (p: Published) => string | null;
  onDropped?: () => void;
  /**
   * The connection under the WebSocket (what `handleUpgrade` was given). When present, every
   * frame sent to this subscriber in one turn of the event loop leaves in ONE socket write: a
   * group commit settles hundreds of shadow writes in one callback, and each of them publishes
   * two notifications, which were two `writev` calls per subscriber each (issue 11).
   */
  socket?: { cork(): void; uncork(): void };
}

export function attachNotifySocket(
  bus: NotificationBus,
  ws: WebSocket,
  opts: NotifySocketOptions,
): void {
  let dropped = false;
  let corked = false;
  /** Bytes sent in this corked turn: not a backlog of the subscriber's, not counted against it. */
  let turnBytes = 0;
  const socket = opts.socket;
  const uncork = (): void => {
    corked = false;
    turnBytes = 0;
    socket?.uncork();
  };
  const unsubscribe = bus.subscribe((p) => {
    if (dropped || ws.readyState !== ws.OPEN) return;
    if (socket && !corked) {
      // ws corks and uncorks around each frame; Node counts corks, so the frames of this turn
      // stay buffered (and counted in bufferedAmount) until this uncork after the I/O phase.
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    if (ws.bufferedAmount - turnBytes > opts.maxBufferedBytes) {
      dropped = true;
      unsubscribe();
      opts.onDropped?.();
      ws.close(SLOW_CONSUMER_CLOSE_CODE, 'subscriber too slow');
      // A peer that does not read will not complete the close handshake either.
      setTimeout(() => ws.terminate(), 1000).unref();
      return;
    }
    if (!opts.transform) {
      // The shared bytes, as a text frame: ws sends a Buffer without copying it.
      ws.send(p.bytes, { binary: false });
      if (corked) turnBytes += p.bytes.length;
      return;
    }
    const text = opts.transform(p);
    if (text === null) return;
    ws.send(text);
    if (corked) turnBytes += Buffer.byteLength(text);
  }, opts);
  ws.on('close', unsubscribe);
  ws.on('error', () => ws.terminate());
  // Notification streams are one-way; ignore anything a client sends.
  ws.on('message', () => undefined);
}
