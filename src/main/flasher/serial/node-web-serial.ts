/**
 * A `serialport` port in the Web Serial `SerialPort` shape that esptool-js's `Transport` drives
 * (FLASHING.md 1.3-1.4). esptool-js was written for browsers; this adapter is what lets
 * it run under plain Node, and so in Electron main or a worker thread.
 *
 * What Transport relies on, and why each member looks the way it does:
 * - `readable` must be the same stream object while the port is open (Transport calls
 *   `getReader()` again for every chunk) and must become `null` after `close()`, because
 *   Transport's read loop runs `while (device.readable)`.
 * - `writable` resolves a write only after `drain()`, so a command is on the wire (or at least in
 *   the OS buffer) before Transport starts its reply timeout.
 * - `setSignals` accepts partial objects; `serialport.set()` fills omitted flags with defaults
 *   (dtr and rts true), so DTR/RTS are tracked here and both are always passed.
 * - ptys (our simulator) have no modem lines: the ioctl fails with ENOTTY. That is reported once
 *   through `onWarning` and later signal changes become no-ops, so reset sequences still "run".
 * - `setBaudRate` lets Transport change speed in place; without it Transport closes and reopens
 *   the port, which toggles DTR/RTS on Linux (HUPCL) and can reset auto-reset boards. serialport's
 *   `update()` also flushes both directions (tcflush in bindings-cpp), so it must only run with
 *   nothing in flight; esptool-js calls it after the CHANGE_BAUDRATE reply, before the next command.
 * - Writes fail at once after the port was lost (serialport would queue them until a reopen).
 */
import { SerialPort, type SerialPortMock } from 'serialport';
import { PendingPortCalls, type PortCall } from './pending-port-calls';

export interface UsbInfo {
  usbVendorId?: number;
  usbProductId?: number;
}

/** The serialport stream this adapter drives: the real `SerialPort` or, in tests, `SerialPortMock`. */
export type SerialStream = SerialPort | SerialPortMock;

/** What `open()` passes on to serialport (Web Serial names translated). */
export interface SerialStreamOptions {
  path: string;
  baudRate: number;
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  parity?: 'none' | 'even' | 'odd';
  rtscts?: boolean;
}

export interface NodeWebSerialOptions {
  /** VID/PID from the port listing (`SerialPort.list()`), reported by `getInfo()`. */
  info?: UsbInfo;
  /** Non-fatal problems, e.g. "no reset lines" on a pty. */
  onWarning?: (message: string) => void;
  /** Builds the underlying port (unopened). Defaults to serialport's `SerialPort`. */
  createPort?: (options: SerialStreamOptions) => SerialStream;
}

export interface WebSerialOpenOptions {
  baudRate: number;
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  parity?: 'none' | 'even' | 'odd';
  bufferSize?: number;
  flowControl?: 'none' | 'hardware';
}

export interface WebSerialSignals {
  dataTerminalReady?: boolean;
  requestToSend?: boolean;
  break?: boolean;
}

/** Parses `SerialPort.list()` hex strings ("10c4") into Web Serial numbers. */
export function usbInfoFromListing(entry: { vendorId?: string; productId?: string }): UsbInfo {
  const info: UsbInfo = {};
  const vid = entry.vendorId ? parseInt(entry.vendorId, 16) : NaN;
  const pid = entry.productId ? parseInt(entry.productId, 16) : NaN;
  if (Number.isFinite(vid)) info.usbVendorId = vid;
  if (Number.isFinite(pid)) info.usbProductId = pid;
  return info;
}

function isNoModemLines(err: unknown): boolean {
  const text =
    err instanceof Error
      ? `${err.message} ${String((err as { code?: unknown }).code)}`
      : String(err);
  return /ENOTTY|Inappropriate ioctl/i.test(text);
}

function call(fn: PortCall): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

export class NodeWebSerialPort {
  private port: SerialStream | null = null;
  private readableStream: ReadableStream<Uint8Array> | null = null;
  private writableStream: WritableStream<Uint8Array> | null = null;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private readCancelled = false;
  private closing = false;
  // The OS raises DTR and RTS when a tty is opened, and Web Serial reports both as asserted.
  private dtr = true;
  private rts = true;
  private signalsUnsupported = false;
  private lostError: Error | null = null;
  private opened = false;
  private closingPromise: Promise<void> | null = null;

  constructor(
    readonly path: string,
    private readonly options: NodeWebSerialOptions = {},
  ) {}

  get readable(): ReadableStream<Uint8Array> | null {
    return this.readableStream;
  }

  get writable(): WritableStream<Uint8Array> | null {
    return this.writableStream;
  }

  get isOpen(): boolean {
    return this.port !== null;
  }

  /** True once `open()` has succeeded (tells "could not open" apart from later failures). */
  get wasOpened(): boolean {
    return this.opened;
  }

  /** Set when the port closed or failed without `close()` being called (unplugged, EIO). */
  get lost(): Error | null {
    return this.lostError;
  }

  /** Last DTR/RTS values requested (whether or not the port has modem lines). */
  get signals(): { dtr: boolean; rts: boolean } {
    return { dtr: this.dtr, rts: this.rts };
  }

  getInfo(): UsbInfo {
    return { ...this.options.info };
  }

  async open(options: WebSerialOpenOptions): Promise<void> {
    if (this.port) throw new Error(`${this.path} is already open`);
    const create =
      this.options.createPort ??
      ((o: SerialStreamOptions) => new SerialPort({ ...o, autoOpen: false }));
    const streamOptions: SerialStreamOptions = { path: this.path, baudRate: options.baudRate };
    if (options.dataBits !== undefined) streamOptions.dataBits = options.dataBits;
    if (options.stopBits !== undefined) streamOptions.stopBits = options.stopBits;
    if (options.parity !== undefined) streamOptions.parity = options.parity;
    if (options.flowControl !== undefined)
      streamOptions.rtscts = options.flowControl === 'hardware';
    const port = create(streamOptions);
    // An 'error' event without a listener would throw from the event emitter.
    port.on('error', (err: Error) => this.onLost(err));
    await call((cb) => port.open(cb));
    this.port = port;
    this.opened = true;
    this.closing = false;
    this.lostError = null;
    this.readCancelled = false;
    this.dtr = true;
    this.rts = true;
    this.readableStream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        // Data can still arrive after a cancel; enqueueing then would throw inside an event handler.
        this.readCancelled = true;
      },
    });
    port.on('data', (chunk: Buffer) => {
      if (this.readCancelled || !this.controller) return;
      try {
        // Copy: the binding may reuse its read buffer.
        this.controller.enqueue(new Uint8Array(chunk));
      } catch {
        this.readCancelled = true;
      }
    });
    port.on('close', (err?: Error | null) => {
      if (!this.closing) this.onLost(err ?? new Error(`${this.path} was closed`));
    });
    this.writableStream = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        const p = this.port;
        // serialport queues writes on a closed stream until it reopens, i.e. forever: fail instead.
        if (this.lostError) throw this.lostError;
        if (!p) throw new Error(`${this.path} is not open`);
        if (!p.isOpen) {
          // Closed underneath us (the pty or USB device went away) before its 'close' event ran:
          // that is a lost port too, so `lost` says so whichever of the two came first.
          const err = new Error(`${this.path} is not open (the device went away)`);
          this.onLost(err);
          throw err;
        }
        try {
          await this.untilLost((cb) => p.write(Buffer.from(chunk), cb));
          await this.untilLost((cb) => p.drain(cb));
        } catch (err) {
          // A failed write on an open port means the device is gone (EIO when unplugged); the
          // 'close' event that says so only follows later.
          this.onLost(err instanceof Error ? err : new Error(String(err)));
          throw err;
        }
      },
    });
  }

  /**
   * Whether the port has DTR/RTS at all, asked once with a read of the modem lines (TIOCMGET): a
   * pty, or an adapter without them, answers ENOTTY. A reset sequence on such a port only sleeps,
   * so the ESP connect skips it (issue 11, flashing end to end). Any other failure says "yes": the
   * reset then runs as before and reports its own errors.
   */
  async hasModemLines(): Promise<boolean> {
    const port = this.port;
    if (!port) throw new Error(`${this.path} is not open`);
    if (this.signalsUnsupported) return false;
    try {
      await new Promise<void>((resolve, reject) =>
        port.get((err) => (err ? reject(err) : resolve())),
      );
      return true;
    } catch (err) {
      if (!isNoModemLines(err)) return true;
      this.noModemLines();
      return false;
    }
  }

  private noModemLines(): void {
    if (this.signalsUnsupported) return;
    this.signalsUnsupported = true;
    this.options.onWarning?.(
      `${this.path} has no modem control lines (DTR/RTS), so there are no reset lines: ` +
        'automatic reset into the bootloader is not possible on this port',
    );
  }

  async setSignals(signals: WebSerialSignals): Promise<void> {
    if (signals.dataTerminalReady !== undefined) this.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.rts = signals.requestToSend;
    const port = this.port;
    if (!port) throw new Error(`${this.path} is not open`);
    if (this.signalsUnsupported) return;
    try {
      await call((cb) =>
        port.set({ dtr: this.dtr, rts: this.rts, brk: signals.break ?? false }, cb),
      );
    } catch (err) {
      if (!isNoModemLines(err)) throw err;
      this.noModemLines();
    }
  }

  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port) throw new Error(`${this.path} is not open`);
    await call((cb) => port.update({ baudRate }, cb));
  }

  /** Closes the port; concurrent calls share one close, so awaiting any of them means released. */
  close(): Promise<void> {
    if (this.closingPromise) return this.closingPromise;
    const port = this.port;
    if (!port) return Promise.resolve();
    this.closing = true;
    this.endStreams();
    this.port = null;
    this.closingPromise = (async () => {
      try {
        if (port.isOpen) await call((cb) => port.close(cb));
      } catch (err) {
        // Already closed underneath us (unplugged): nothing left to release.
        if (port.isOpen) throw err;
      } finally {
        port.removeAllListeners('data');
        this.closingPromise = null;
      }
    })();
    return this.closingPromise;
  }

  /** Port calls still waiting: serialport keeps a write to a port that closed queued for ever. */
  private readonly waitingIo = new PendingPortCalls();

  /** One port call, or the port's loss if that comes first (the device vanished mid-write). */
  private untilLost(start: PortCall): Promise<void> {
    if (this.lostError) return Promise.reject(this.lostError);
    return this.waitingIo.run(start);
  }

  private onLost(err: Error): void {
    if (this.closing || !this.port) return;
    this.lostError ??= err;
    this.waitingIo.failAll(this.lostError);
    const controller = this.controller;
    if (controller && !this.readCancelled) {
      this.readCancelled = true;
      try {
        controller.error(err);
      } catch {
        // The stream is already closed.
      }
    }
  }

  private endStreams(): void {
    if (this.controller && !this.readCancelled) {
      this.readCancelled = true;
      try {
        this.controller.close();
      } catch {
        // A reader cancelled it already.
      }
    }
    this.controller = null;
    this.readableStream = null;
    this.writableStream = null;
  }
}
