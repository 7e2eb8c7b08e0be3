/**
 * The serial monitor (issue: "Stream a port's output to API clients over a WebSocket, send input,
 * change baud, reset the board; detect ESP32 panic backtraces and decode them"). This class owns
 * one open port; the integrator's WebSocket route subscribes to its events (see
 * monitor-commands.ts for the client message schema) and leases the port in the PortRegistry
 * around `open()`/`close()`.
 *
 * Events: `data` (Buffer), `line` (string), `panic` (PanicInfo), `warning` (string), `error`
 * (Error), `close` (CloseInfo: closed | unplugged | error, with a readable message).
 */
import { EventEmitter } from 'node:events';
import Type from 'typebox';
import { HubError } from '../../../shared/errors';
import { parseWith } from '../../validate';
import { openErrorToHubError } from '../serial/port-registry';
import type { SymbolTable } from '../../firmware/elf-symbols';
import { LineSplitter, DEFAULT_MAX_LINE_CHARS } from './line-splitter';
import { decodePanic, PanicDetector, type PanicInfo } from './panic-decoder';
import { Scrollback, DEFAULT_SCROLLBACK_BYTES } from './scrollback';
import { SerialLink, isEnotty, type CloseInfo } from './serial-link';

/** Baud rates accepted from clients: what USB-serial bridges and ptys actually do. */
export const BaudSchema = Type.Integer({ minimum: 50, maximum: 12_000_000 });

export const MonitorOpenSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 4096 }),
    baud: BaudSchema,
  },
  { additionalProperties: false },
);
export type MonitorOpen = Type.Static<typeof MonitorOpenSchema>;

export interface SerialMonitorOptions {
  /** Bytes of output kept for late subscribers; default 64 KiB. */
  scrollbackBytes?: number;
  /** A partial line is emitted after this much silence; default 100 ms. */
  partialLineFlushMs?: number;
  /** A panic block without an end marker is decoded after this much silence; default 500 ms. */
  panicIdleMs?: number;
  maxLineChars?: number;
  /** Largest single `write()`; default 64 KiB. */
  maxWriteBytes?: number;
  /** How long reset() holds EN low; default 100 ms (esptool's classic reset uses 100 ms). */
  resetPulseMs?: number;
  /** Symbols of the firmware on the board, for panic decoding. */
  symbols?: SymbolTable | null;
  /** Passed to SerialLink (tests). */
  unplugPollMs?: number;
  mockBinding?: boolean;
}

export interface ResetResult {
  /** False when the port has no modem lines (pty) and the board was not reset. */
  ok: boolean;
  warning?: string;
}

export interface SerialMonitorEvents {
  open: [info: { path: string; baud: number }];
  data: [chunk: Buffer];
  line: [line: string];
  panic: [panic: PanicInfo];
  warning: [message: string];
  error: [err: Error];
  close: [info: CloseInfo];
}

export class SerialMonitor extends EventEmitter<SerialMonitorEvents> {
  private link: SerialLink | null = null;
  private opening = false;
  private splitter: LineSplitter;
  private readonly detector = new PanicDetector();
  private readonly ring: Scrollback;
  private symbols: SymbolTable | null;
  private lineTimer: NodeJS.Timeout | null = null;
  private panicTimer: NodeJS.Timeout | null = null;
  private readonly lineFlushMs: number;
  private readonly panicIdleMs: number;
  private readonly maxWriteBytes: number;
  private readonly resetPulseMs: number;

  constructor(private readonly opts: SerialMonitorOptions = {}) {
    super();
    this.ring = new Scrollback(opts.scrollbackBytes ?? DEFAULT_SCROLLBACK_BYTES);
    this.splitter = new LineSplitter(opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS);
    this.symbols = opts.symbols ?? null;
    this.lineFlushMs = opts.partialLineFlushMs ?? 100;
    this.panicIdleMs = opts.panicIdleMs ?? 500;
    this.maxWriteBytes = opts.maxWriteBytes ?? 64 * 1024;
    this.resetPulseMs = opts.resetPulseMs ?? 100;
  }

  get isOpen(): boolean {
    return this.link?.isOpen ?? false;
  }

  get path(): string | null {
    return this.link?.path ?? null;
  }

  get baud(): number | null {
    return this.link?.baud ?? null;
  }

  /** Opens the port. Throws validation_failed, port_not_found, port_busy or serial_error. */
  async open(input: unknown): Promise<void> {
    const { path, baud } = parseWith(MonitorOpenSchema, input);
    if (this.link || this.opening) {
      throw new HubError('conflict', `monitor is already attached to ${this.link?.path ?? path}`);
    }
    this.opening = true;
    try {
      const linkOpts: Parameters<typeof SerialLink.open>[0] = { path, baud };
      if (this.opts.unplugPollMs !== undefined) linkOpts.unplugPollMs = this.opts.unplugPollMs;
      if (this.opts.mockBinding) linkOpts.mockBinding = true;
      this.link = await SerialLink.open(linkOpts);
    } catch (err) {
      throw openErrorToHubError(path, err);
    } finally {
      this.opening = false;
    }
    const link = this.link;
    link.on('data', (chunk) => this.onData(chunk));
    link.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    link.once('close', (info) => this.onClose(info));
    this.emit('open', { path, baud });
  }

  /** Sends input to the board. */
  async write(data: string | Uint8Array): Promise<void> {
    const link = this.requireOpen();
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!(bytes instanceof Uint8Array))
      throw new HubError('validation_failed', 'data must be text or bytes');
    if (bytes.length > this.maxWriteBytes) {
      throw new HubError(
        'too_large',
        `input of ${bytes.length} bytes exceeds ${this.maxWriteBytes}`,
      );
    }
    try {
      await link.write(bytes);
    } catch (err) {
      throw new HubError('serial_error', `write to ${link.path} failed: ${errText(err)}`);
    }
  }

  /** Changes the baud rate in place. */
  async setBaud(input: unknown): Promise<void> {
    const baud = parseWith(BaudSchema, input);
    const link = this.requireOpen();
    try {
      await link.setBaud(baud);
    } catch (err) {
      throw new HubError(
        'serial_error',
        `cannot set ${baud} baud on ${link.path}: ${errText(err)}`,
      );
    }
  }

  /**
   * Resets the board with an EN pulse on RTS (esptool convention: RTS=true holds EN low; DTR stays
   * false so IO0 is high and the chip boots the app). On a port without modem lines (a pty, some
   * adapters) this is a warning, not a failure.
   */
  async reset(): Promise<ResetResult> {
    const link = this.requireOpen();
    try {
      await link.setSignals(false, true);
      await sleep(this.resetPulseMs);
      await link.setSignals(false, false);
      return { ok: true };
    } catch (err) {
      if (isEnotty(err)) {
        const warning = `port ${link.path} has no DTR/RTS lines (pty or adapter without auto-reset); press the board's EN/RST button instead`;
        this.emit('warning', warning);
        return { ok: false, warning };
      }
      throw new HubError('serial_error', `reset on ${link.path} failed: ${errText(err)}`);
    }
  }

  /** Replaces the symbol table used for panic decoding (null to stop decoding names). */
  setSymbols(symbols: SymbolTable | null): void {
    this.symbols = symbols;
  }

  /** The last N KB of output, oldest first. */
  scrollback(): Buffer {
    return this.ring.read();
  }

  async close(): Promise<void> {
    const link = this.link;
    if (!link) return;
    await link.close();
  }

  private requireOpen(): SerialLink {
    const link = this.link;
    if (!link || !link.isOpen) throw new HubError('conflict', 'serial monitor is not open');
    return link;
  }

  private onData(chunk: Buffer): void {
    this.ring.push(chunk);
    this.emit('data', chunk);
    for (const line of this.splitter.push(chunk)) this.onLine(line);
    if (this.lineTimer) clearTimeout(this.lineTimer);
    this.lineTimer = null;
    if (this.splitter.hasPartial) {
      this.lineTimer = setTimeout(() => {
        this.lineTimer = null;
        const rest = this.splitter.flushPartial();
        if (rest !== null) this.onLine(rest);
      }, this.lineFlushMs);
    }
  }

  private onLine(line: string): void {
    this.emit('line', line);
    const block = this.detector.push(line);
    if (block) this.emitPanic(block);
    if (this.panicTimer) clearTimeout(this.panicTimer);
    this.panicTimer = null;
    if (this.detector.active) {
      this.panicTimer = setTimeout(() => {
        this.panicTimer = null;
        const rest = this.detector.flush();
        if (rest) this.emitPanic(rest);
      }, this.panicIdleMs);
    }
  }

  private emitPanic(block: string[]): void {
    const info = decodePanic(block, this.symbols);
    if (info) this.emit('panic', info);
  }

  private onClose(info: CloseInfo): void {
    if (this.lineTimer) clearTimeout(this.lineTimer);
    if (this.panicTimer) clearTimeout(this.panicTimer);
    this.lineTimer = null;
    this.panicTimer = null;
    const rest = this.splitter.flushPartial();
    if (rest !== null) this.onLine(rest);
    if (this.panicTimer) clearTimeout(this.panicTimer);
    this.panicTimer = null;
    const block = this.detector.flush();
    if (block) this.emitPanic(block);
    this.splitter = new LineSplitter(this.opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS);
    this.link = null;
    this.emit('close', info);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
