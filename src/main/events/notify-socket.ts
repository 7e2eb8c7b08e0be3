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
}

export function attachNotifySocket(
  bus: NotificationBus,
  ws: WebSocket,
  opts: NotifySocketOptions,
): void {
  let dropped = false;
  const unsubscribe = bus.subscribe((p) => {
    if (dropped || ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > opts.maxBufferedBytes) {
      dropped = true;
      unsubscribe();
      opts.onDropped?.();
      ws.close(SLOW_CONSUMER_CLOSE_CODE, 'subscriber too slow');
      // A peer that does not read will not complete the close handshake either.
      setTimeout(() => ws.terminate(), 1000).unref();
      return;
    }
    const text = opts.transform ? opts.transform(p) : p.text;
    if (text !== null) ws.send(text);
  }, opts);
  ws.on('close', unsubscribe);
  ws.on('error', () => ws.terminate());
  // Notification streams are one-way; ignore anything a client sends.
  ws.on('message', () => undefined);
}
