/**
 * esptool-js `Transport` that wakes a pending read when bytes arrive instead of polling.
 *
 * Why: `Transport.read()` in esptool-js 0.7.0 polls its buffer with `sleep(1)`, and Node turns each
 * of those into a 1+ ms timer; every command round trip pays that, and the read also cannot
 * notice that the port is gone until its timeout (FLASHING.md 1.5-c, 6). Here the read loop
 * resolves waiters as soon as a chunk is appended, the port closing ends pending reads at once,
 * and `abort()` (cancellation) does the same. The SLIP parsing itself is still esptool-js's own
 * `read()`, called once bytes are buffered, so protocol behaviour (including "Invalid head of
 * packet" on stray bytes) is unchanged.
 */
import { ESPError, TimeoutError, Transport } from 'esptool-js';
import type { NodeWebSerialPort } from '../serial/node-web-serial';
import { PORT_CLOSED_ERROR } from './hints';
import { slipEncode } from './slip';

/** A write longer than this (plus twice its wire time) means the line is stuck. */
export const WRITE_TIMEOUT_MS = 3000;
/** How long the line must stay quiet before `drainInput` flushes it. */
export const DRAIN_QUIET_MS = 30;

/** Fields esptool-js declares private but which `readLoop`/`disconnect` share with us. */
interface TransportInternals {
  buffer: Uint8Array;
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
}

/** The port stopped delivering data (closed, unplugged) while a reply was awaited. */
export class PortClosedError extends ESPError {
  /** What hints.ts tells it by: the hub classifies errors without loading esptool-js. */
  override readonly name = PORT_CLOSED_ERROR;
  constructor(readonly reason: Error | null) {
    super(`serial port closed${reason ? `: ${reason.message}` : ''}`);
  }
}

/** `abort()` was called while a reply was awaited. */
export class TransportAbortedError extends ESPError {
  constructor() {
    super('aborted');
  }
}

export class EventTransport extends Transport {
  private waiters = new Set<() => void>();
  private streamEnded: Error | null = null;
  private loopRunning = false;
  private aborted = false;
  private flushOnNextDrain = false;

  constructor(
    readonly port: NodeWebSerialPort,
    private readonly log: (line: string) => void = () => {},
  ) {
    super(port, false, true);
  }

  private get internals(): TransportInternals {
    return this as unknown as TransportInternals;
  }

  /**
   * esptool-js drains (after CHANGE_BAUDRATE, after an unsupported-command reply) until the line
   * has been quiet for 100 ms. esptool.py waits 50 ms after a baud change and flushes; the ROM's
   * repeated error replies follow each other within a few ms. 30 ms of quiet still outlasts a
   * USB-UART bridge's latency timer (16 ms on FTDI) and saves ~70 ms each time (issue 11).
   */
  override async drainInput(quietMs = DRAIN_QUIET_MS, maxMs = 400): Promise<void> {
    if (this.flushOnNextDrain) {
      this.flushOnNextDrain = false;
      this.flushInput();
      return;
    }
    return super.drainInput(quietMs, maxMs);
  }

  /**
   * The next `drainInput` only flushes. For esptool-js's `changeBaud`, which has already waited
   * 50 ms after the chip's reply before it drains: esptool.py flushes at that point (its
   * `change_baud`: set the port's baud, sleep 0.05 s, flush_input), and the register read that
   * follows proves the line works (or sends esptool-js into its reconnect at the ROM baud).
   */
  flushInsteadOfNextDrain(): void {
    this.flushOnNextDrain = true;
  }

  /** Our SLIP encoder (two passes over a Uint8Array) instead of esptool-js's per-byte array push. */
  override slipWriter(data: Uint8Array): Uint8Array {
    return slipEncode(data);
  }

  /** Same job as esptool-js's loop (append every chunk to the shared buffer), plus wake-ups. */
  override async readLoop(): Promise<void> {
    const stream = this.port.readable;
    if (!stream || this.loopRunning) return;
    this.loopRunning = true;
    this.streamEnded = null;
    const reader = stream.getReader();
    this.internals.reader = reader;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (value && value.length > 0) {
          const prev = this.internals.buffer;
          const next = new Uint8Array(prev.length + value.length);
          next.set(prev);
          next.set(value, prev.length);
          this.internals.buffer = next;
          this.wake();
        }
      }
    } catch (err) {
      this.streamEnded = err instanceof Error ? err : new Error(String(err));
    } finally {
      reader.releaseLock();
      if (this.internals.reader === reader) this.internals.reader = undefined;
      this.loopRunning = false;
      this.streamEnded ??= this.port.lost ?? new Error('read stream ended');
      this.wake();
    }
  }

  override async read(timeout: number): Promise<Uint8Array> {
    if (this.aborted) throw new TransportAbortedError();
    if (this.inWaiting() === 0) {
      await this.waitForData(timeout);
      if (this.aborted) throw new TransportAbortedError();
      if (this.inWaiting() === 0) {
        if (this.streamEnded) throw new PortClosedError(this.port.lost ?? this.streamEnded);
        throw new TimeoutError(`No serial data received within ${timeout} ms`);
      }
    }
    // Bytes are buffered: esptool-js parses the frame. If a frame is split across reads it
    // falls back to its own polling for the remainder, which is rare and still correct.
    return super.read(timeout);
  }

  /**
   * esptool-js awaits every write without a limit, and its reply timeout only starts afterwards;
   * a write that never completes (flow control stuck, peer gone) would hang the job. Same framing
   * and stream use as esptool-js, plus a deadline and abort.
   */
  override async write(data: Uint8Array): Promise<void> {
    if (this.aborted) throw new TransportAbortedError();
    const writable = this.port.writable;
    if (!writable) throw new PortClosedError(this.port.lost);
    const frame = this.slipWriter(data);
    if (this.tracing) this.trace(`Write ${frame.length} bytes: ${this.hexConvert(frame)}`);
    const limitMs = WRITE_TIMEOUT_MS + ((frame.length * 10 * 1000) / (this.baudrate || 9600)) * 2;
    const writer = writable.getWriter();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        writer.write(frame),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new TimeoutError(`serial write timed out after ${Math.round(limitMs)} ms`)),
            limitMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      writer.releaseLock();
    }
  }

  /** esptool-js traces through console.log; keep that out of the app's stdout. */
  override trace(message: string): void {
    if (this.tracing) this.log(`TRACE ${message}`);
  }

  /** Ends pending and future reads with `TransportAbortedError` (cancellation). */
  abort(): void {
    this.aborted = true;
    this.wake();
  }

  /**
   * Releases the port no matter what state the protocol is in. esptool-js's `disconnect()` waits
   * for both streams to unlock, which never happens if a write is stuck; closing the adapter
   * ends the streams directly.
   */
  async shutdown(): Promise<void> {
    try {
      await this.internals.reader?.cancel();
    } catch {
      // The stream already errored (port lost).
    }
    await this.port.close();
  }

  private waitForData(timeout: number): Promise<void> {
    if (this.streamEnded && !this.loopRunning) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeout);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
