/**
 * The I/O edge for the monitor and the provisioners: a `serialport` port with promise methods and
 * one reliable `close` event that says why (DESIGN.md example 1: I/O at the edges).
 *
 * Why the extra unplug watch: on Linux, after a hangup (USB unplug, or the far side of a pty going
 * away) `read()` returns 0 bytes, and @serialport/bindings-cpp 13 retries such reads forever
 * (dist/unix-read.js: `if (bytesRead === 0) return unixRead(...)`) without ever emitting `close`.
 * Verified here against a socat pty pair: killing socat left the port "open" and spinning. So we
 * also poll the device path: udev removes /dev/ttyUSB0 on unplug and socat removes its links when
 * it exits; when the path disappears we close the port ourselves and report `unplugged`.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { SerialPort, SerialPortMock } from 'serialport';

export type CloseReason = 'closed' | 'unplugged' | 'error';

export interface CloseInfo {
  reason: CloseReason;
  message: string;
}

export interface SerialLinkOptions {
  path: string;
  baud: number;
  /**
   * Unplug watch period (see the file comment); default 250 ms, 0 disables it. The mock binding
   * has no device node, so the watch is off for it.
   */
  unplugPollMs?: number;
  /**
   * Use @serialport/binding-mock instead of the OS (a port created with
   * `SerialPortMock.binding.createPort(path)`). Ptys have no modem lines, so this is the only way to
   * observe DTR/RTS sequences in tests (FLASHING.md 0.4c).
   */
  mockBinding?: boolean;
}

export interface SerialLinkEvents {
  data: [chunk: Buffer];
  close: [info: CloseInfo];
  error: [err: Error];
}

type Port = SerialPort | SerialPortMock;

export const DEFAULT_UNPLUG_POLL_MS = 250;

export function isEnotty(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === 'ENOTTY' ||
    (typeof e?.message === 'string' && /inappropriate ioctl|ENOTTY/i.test(e.message))
  );
}

export class SerialLink extends EventEmitter<SerialLinkEvents> {
  private closed = false;
  private watch: NodeJS.Timeout | null = null;
  private currentBaud: number;

  private constructor(
    readonly path: string,
    readonly port: Port,
    baud: number,
  ) {
    super();
    this.currentBaud = baud;
  }

  /** Opens the port; rejects with the serialport error (see `describeOpenError`). */
  static async open(opts: SerialLinkOptions): Promise<SerialLink> {
    // serialport (and its native binding) loads with the first monitor, not with the hub.
    const { SerialPort, SerialPortMock } = await import('serialport');
    const Ctor = opts.mockBinding ? SerialPortMock : SerialPort;
    const port: Port = new Ctor({ path: opts.path, baudRate: opts.baud, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(err) : resolve())),
    );
    const link = new SerialLink(opts.path, port, opts.baud);
    link.attach(opts.mockBinding ? 0 : (opts.unplugPollMs ?? DEFAULT_UNPLUG_POLL_MS));
    return link;
  }

  get isOpen(): boolean {
    return !this.closed && this.port.isOpen;
  }

  get baud(): number {
    return this.currentBaud;
  }

  /** Writes and waits until the bytes reached the OS driver. */
  async write(data: Uint8Array | string): Promise<void> {
    if (!this.isOpen) throw new Error(`port ${this.path} is not open`);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    await new Promise<void>((resolve, reject) => {
      this.port.write(buf, (err) => (err ? reject(err) : resolve()));
    });
    await new Promise<void>((resolve, reject) => {
      this.port.drain((err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Sets DTR and RTS. Both are always passed because serialport fills omitted flags with
   * defaults (dtr:true, rts:true), which would toggle the other line (FLASHING.md 1.4).
   * Rejects with ENOTTY on a pty.
   */
  async setSignals(dtr: boolean, rts: boolean): Promise<void> {
    if (!this.isOpen) throw new Error(`port ${this.path} is not open`);
    await new Promise<void>((resolve, reject) => {
      this.port.set({ dtr, rts, brk: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Changes the baud in place (`port.update`), which works on real ttys and on ptys. */
  async setBaud(baud: number): Promise<void> {
    if (!this.isOpen) throw new Error(`port ${this.path} is not open`);
    await new Promise<void>((resolve, reject) => {
      this.port.update({ baudRate: baud }, (err) => (err ? reject(err) : resolve()));
    });
    this.currentBaud = baud;
  }

  /** Closes the port; emits `close` with reason 'closed' once. Safe to call twice. */
  async close(): Promise<void> {
    await this.shutdown({ reason: 'closed', message: `port ${this.path} closed` });
  }

  private attach(pollMs: number): void {
    this.port.on('data', (chunk: Buffer) => {
      if (!this.closed) this.emit('data', chunk);
    });
    this.port.on('error', (err: Error) => {
      if (this.closed) return;
      if (this.listenerCount('error') > 0) this.emit('error', err);
      // EIO/ENXIO on write means the device is gone; a stream error leaves it unusable anyway.
      void this.shutdown({ reason: 'error', message: `port ${this.path} failed: ${err.message}` });
    });
    this.port.on('close', (err: unknown) => {
      if (this.closed) return;
      const disconnected = (err as { disconnected?: unknown } | null)?.disconnected === true;
      void this.shutdown(
        disconnected
          ? { reason: 'unplugged', message: `port ${this.path} was disconnected` }
          : { reason: 'closed', message: `port ${this.path} closed` },
      );
    });
    if (pollMs > 0) {
      this.watch = setInterval(() => {
        if (!existsSync(this.path)) {
          void this.shutdown({
            reason: 'unplugged',
            message: `port ${this.path} disappeared (device unplugged or simulator stopped)`,
          });
        }
      }, pollMs);
      this.watch.unref?.();
    }
  }

  private async shutdown(info: CloseInfo): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    if (this.port.isOpen) {
      await new Promise<void>((resolve) => {
        this.port.close(() => resolve());
      });
    }
    this.emit('close', info);
  }
}
