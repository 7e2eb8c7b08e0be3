/**
 * Attaches a WebSocket to the bus as a notification stream (PROTOCOL.md 7). A subscriber that
 * cannot keep up (its socket's send buffer passes the limit) is dropped with close code 1013
 * rather than allowed to grow the hub's memory without bound.
 */
import type { WebSocket } from 'ws';
import type { NotificationBus, Published, SubscribeOptions } from './notification-bus';
import type { TurnFrames, TurnMember } from './turn-frames';

export const SLOW_CONSUMER_CLOSE_CODE = 1013;

export interface NotifyStreamSocket {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): unknown;
}

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
  socket?: NotifyStreamSocket;
  /**
   * Streams of every notification, unchanged (no `transform`, no `deviceId`), with their
   * `socket`: the turn's frames are made once for all of them (turn-frames.ts).
   */
  turn?: TurnFrames;
}

export function attachNotifySocket(
  bus: NotificationBus,
  ws: WebSocket,
  opts: NotifySocketOptions,
): void {
  let dropped = false;
  let unsubscribe = (): void => undefined;
  const drop = (): void => {
    dropped = true;
    unsubscribe();
    opts.onDropped?.();
    ws.close(SLOW_CONSUMER_CLOSE_CODE, 'subscriber too slow');
    // A peer that does not read will not complete the close handshake either.
    setTimeout(() => ws.terminate(), 1000).unref();
  };
  const socket = opts.socket;
  const turn = opts.transform || opts.deviceId !== undefined ? undefined : opts.turn;
  if (turn && socket) {
    const member: TurnMember = {
      start: -1,
      end: -1,
      flush(frames) {
        if (dropped || ws.readyState !== ws.OPEN) return;
        // What is still buffered from earlier turns: this turn's part is not a backlog yet.
        if (ws.bufferedAmount > opts.maxBufferedBytes) drop();
        else socket.write(frames);
      },
    };
    turn.join(member);
    const off = bus.subscribe((p) => {
      if (!dropped && ws.readyState === ws.OPEN) turn.received(member, p);
    }, opts);
    unsubscribe = () => {
      off();
      turn.leave(member);
    };
  } else {
    unsubscribe = bus.subscribe((p) => deliver(p), opts);
  }

  let corked = false;
  /** Bytes sent in this corked turn: not a backlog of the subscriber's, not counted against it. */
  let turnBytes = 0;
  const uncork = (): void => {
    corked = false;
    turnBytes = 0;
    socket?.uncork();
  };
  function deliver(p: Published): void {
    if (dropped || ws.readyState !== ws.OPEN) return;
    if (socket && !corked) {
      // ws corks and uncorks around each frame; Node counts corks, so the frames of this turn
      // stay buffered (and counted in bufferedAmount) until this uncork after the I/O phase.
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    if (ws.bufferedAmount - turnBytes > opts.maxBufferedBytes) {
      drop();
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
  }

  ws.on('close', () => unsubscribe());
  ws.on('error', () => ws.terminate());
  // Notification streams are one-way; ignore anything a client sends.
  ws.on('message', () => undefined);
}
