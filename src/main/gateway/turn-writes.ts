/**
 * The REST RPC answers and device frames of one event-loop turn, sent together after the turn's
 * I/O (issue 11). Written one by one, each write woke its reader (the HTTP client, the process
 * holding the device sockets) between two calls' worth of the hub's work, so every write paid a
 * wake-up: on a VM a halted vCPU needs an interrupt from the writer, and `perf` put 11 us of the
 * hub's 83 us per call there (a bare relay: 5 us). Sent back to back after the turn, the first
 * write wakes the reader and the rest find it awake; the reader, too, then handles them in one go.
 *
 * - `cork(socket)`: the socket's writes of this turn stay buffered until the turn's end (Node
 *   counts corks: `ws` still corks and uncorks around each frame inside ours).
 * - `defer(task)`: the task runs at the turn's end, before the sockets are uncorked. An HTTP
 *   answer is deferred whole, because `res.end()` uncorks its socket fully.
 *
 * "The turn's end" is a `setImmediate`, which runs after the I/O callbacks of the turn (and their
 * promise reactions). What waits there is bounded: at `maxEntries` corked sockets and deferred
 * tasks, all of them are sent at once. So a write waits at most for the rest of its turn's
 * events, and never for more than `maxEntries` of them; with one event a turn (a quiet hub) it
 * waits for nothing.
 */
import { TURN_WRITES_MAX } from '../config';

/** What `cork` needs of a socket (net.Socket, tls.TLSSocket). */
export interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
}

export class TurnWrites {
  private sockets = new Set<Corkable>();
  private tasks: (() => void)[] = [];
  private scheduled = false;
  private readonly flushTurn = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** `onError`: a deferred task threw (the others still run). */
  constructor(
    private readonly onError: (err: unknown) => void,
    private readonly maxEntries: number = TURN_WRITES_MAX,
  ) {}

  /** Keeps `socket`'s writes buffered until the turn's end. */
  cork(socket: Corkable): void {
    if (socket.destroyed || this.sockets.has(socket)) return;
    socket.cork();
    this.sockets.add(socket);
    this.added();
  }

  /** Runs `task` at the turn's end. */
  defer(task: () => void): void {
    this.tasks.push(task);
    this.added();
  }

  /** Runs the deferred tasks, then sends what the corked sockets hold. */
  flush(): void {
    const tasks = this.tasks;
    if (tasks.length > 0) {
      this.tasks = [];
      for (const task of tasks) {
        try {
          task();
        } catch (err) {
          this.onError(err);
        }
      }
    }
    const sockets = this.sockets;
    if (sockets.size > 0) {
      this.sockets = new Set();
      // A socket ended meanwhile was fully uncorked by `end()`: its uncork does nothing.
      for (const s of sockets) s.uncork();
    }
  }

  private added(): void {
    if (this.tasks.length + this.sockets.size >= this.maxEntries) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushTurn);
    }
  }
}
