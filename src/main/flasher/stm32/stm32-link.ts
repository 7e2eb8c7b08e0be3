/**
 * Byte-level serial transport for the STM32 bootloader (FLASHING.md 4.1): 8E1 by default, a read
 * buffer fed by 'data' events (no polling), and failures mapped to FlashError codes so the flash
 * job can report them: no reply in time -> 'timeout', the port disappearing or failing ->
 * 'port_vanished', an open that cannot happen -> 'port_not_found' / 'port_busy'.
 */
import { SerialPort } from 'serialport';
import { FlashError } from '../../../shared/flash-state';
import { PendingPortCalls, type PortCall } from '../serial/pending-port-calls';

/** What the AN3155 client needs from a transport (stm32-client.ts). */
export interface ByteLink {
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves with exactly `n` bytes, or rejects with FlashError('timeout') after `timeoutMs`. */
  readExactly(n: number, timeoutMs: number, what?: string): Promise<Uint8Array>;
  /** Drops bytes received so far (stale replies, line noise). */
  discardInput(): void;
}

/** Modem-control line state; serialport's `set()` needs all of them at once (see setLines). */
export interface LineState {
  dtr: boolean;
  rts: boolean;
  brk: boolean;
}

export interface ModemLines {
  setLines(state: LineState): Promise<void>;
}

/**
 * The part of a serialport stream the link uses. `SerialPort` and `SerialPortMock` both fit, so
 * unit tests can drive the link over `@serialport/binding-mock`.
 */
export interface PortLike {
  readonly isOpen: boolean;
  readonly path: string;
  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean;
  drain(cb: (err: Error | null) => void): void;
  set(flags: LineState, cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'close', fn: (err?: Error | null) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

export type Parity = 'even' | 'none';

export interface Stm32LinkOptions {
  path: string;
  baudRate: number;
  /** 'even' (8E1) is what the bootloader speaks; 'none' (8N1) for adapters or ptys that need it. */
  parity?: Parity;
  signal?: AbortSignal;
}

interface Waiter {
  n: number;
  resolve: (bytes: Uint8Array) => void;
  reject: (err: FlashError) => void;
  timer: ReturnType<typeof setTimeout>;
}

function openErrorToFlashError(path: string, err: Error): FlashError {
  const msg = err.message;
  if (/ENOENT|No such file/i.test(msg)) {
    return new FlashError('port_not_found', `serial port ${path} does not exist`);
  }
  if (/EBUSY|lock|Resource temporarily unavailable/i.test(msg)) {
    return new FlashError(
      'port_busy',
      `serial port ${path} is in use: ${msg}`,
      'close other programs (serial monitors, stm32flash) using the port',
    );
  }
  if (/EACCES|Permission denied/i.test(msg)) {
    return new FlashError(
      'port_not_found',
      `no permission to open ${path}`,
      'add your user to the dialout (Linux) or uucp group and log in again',
    );
  }
  return new FlashError('port_not_found', `cannot open ${path}: ${msg}`);
}

export class Stm32Link implements ByteLink, ModemLines {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: Waiter | null = null;
  private failure: FlashError | null = null;
  private closing = false;
  private written = 0;
  private readonly onAbort = (): void => this.fail(new FlashError('cancelled', 'cancelled'));

  private constructor(
    private readonly port: PortLike,
    private readonly signal?: AbortSignal,
  ) {
    port.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.settle();
    });
    port.on('close', (err?: Error | null) => {
      if (this.closing) return;
      const why = err ? `: ${err.message}` : '';
      this.fail(new FlashError('port_vanished', `serial port ${port.path} closed${why}`));
    });
    port.on('error', (err: Error) => {
      this.fail(new FlashError('port_vanished', `serial port ${port.path} failed: ${err.message}`));
    });
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.onAbort();
  }

  /** Opens a real port (8 data bits, 1 stop bit, even parity unless told otherwise). */
  static async open(opts: Stm32LinkOptions): Promise<Stm32Link> {
    if (opts.signal?.aborted) throw new FlashError('cancelled', 'cancelled');
    const port = new SerialPort({
      path: opts.path,
      baudRate: opts.baudRate,
      dataBits: 8,
      stopBits: 1,
      parity: opts.parity ?? 'even',
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => (err ? reject(openErrorToFlashError(opts.path, err)) : resolve()));
    });
    return new Stm32Link(port, opts.signal);
  }

  /** Wraps a port that is already open (tests hand in a SerialPortMock). */
  static attach(port: PortLike, signal?: AbortSignal): Stm32Link {
    return new Stm32Link(port, signal);
  }

  get path(): string {
    return this.port.path;
  }

  /** Bytes handed to the port so far: the "wire bytes" a flash job reports. */
  get bytesWritten(): number {
    return this.written;
  }

  get isOpen(): boolean {
    return this.port.isOpen && this.failure === null;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    await this.io('write', (cb) => this.port.write(data, cb));
    this.written += bytes.length;
    // Wait for the bytes to leave (tcdrain), so reply timeouts start when the device has them.
    await this.io('drain', (cb) => this.port.drain(cb));
    if (this.failure) throw this.failure;
  }

  /** Write and drain calls whose callback has not come yet: a failure of the link ends them. */
  private readonly pendingIo = new PendingPortCalls();

  /** One port call, settled by its callback or by the link failing first (pending-port-calls). */
  private io(op: string, start: PortCall): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return this.pendingIo.run(start, (err) => this.portError(op, err));
  }

  readExactly(n: number, timeoutMs: number, what = 'reply'): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) {
      return Promise.reject(new FlashError('internal', 'overlapping reads on the STM32 link'));
    }
    if (this.buf.length >= n) return Promise.resolve(this.take(n));
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(
          new FlashError(
            'timeout',
            `no ${what} from the bootloader within ${timeoutMs} ms (got ${this.buf.length} of ${n} bytes)`,
          ),
        );
      }, timeoutMs);
      this.waiter = { n, resolve, reject, timer };
    });
  }

  discardInput(): void {
    this.buf = Buffer.alloc(0);
  }

  /**
   * Sets DTR, RTS and BREAK together. serialport's `set()` fills unspecified flags with its
   * defaults (dtr/rts true), so sending one flag alone would silently flip the other line.
   * Rejects with the raw error: entry-sequence.ts decides whether it is a pty's ENOTTY.
   */
  setLines(state: LineState): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.port.set({ dtr: state.dtr, rts: state.rts, brk: state.brk }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }

  /** Idempotent; safe in `finally`. Pending reads fail with 'port_vanished'. */
  async close(): Promise<void> {
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.closing) return;
    this.closing = true;
    this.fail(this.failure ?? new FlashError('port_vanished', 'link closed'));
    if (this.port.isOpen) {
      await new Promise<void>((resolve) => this.port.close(() => resolve()));
    }
    this.port.removeAllListeners('data');
  }

  private take(n: number): Uint8Array {
    const out = Uint8Array.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    return out;
  }

  private settle(): void {
    const w = this.waiter;
    if (!w || this.buf.length < w.n) return;
    this.waiter = null;
    clearTimeout(w.timer);
    w.resolve(this.take(w.n));
  }

  private fail(err: FlashError): void {
    if (!this.failure) this.failure = err;
    this.pendingIo.failAll(this.failure);
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    clearTimeout(w.timer);
    w.reject(this.failure);
  }

  /** A failed write or drain means the device is gone (EIO on a hung-up tty): stay failed. */
  private portError(op: string, err: Error): FlashError {
    this.fail(
      new FlashError('port_vanished', `serial ${op} on ${this.port.path} failed: ${err.message}`),
    );
    return this.failure ?? new FlashError('port_vanished', err.message);
  }
}
