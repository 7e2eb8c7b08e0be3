/**
 * Fleet-wide ESP32 crash decoding (issue 8). Watches every device console (`rpc.out.Log`,
 * PROTOCOL.md 2), reassembles lines, and when a line is a panic `Backtrace:` decodes it with the
 * ELF of the firmware that device runs, published as `log.decoded` (PROTOCOL.md 7: ours, stored in
 * the log like every notification). Which firmware: the library firmware whose learned `fw_id` /
 * build id is the device's reported `ota.fw_id`, else the last install the hub recorded for the
 * device with that fw_id (or its last install when it reports none).
 *
 * The bus callback only splits lines and tests a regex; ELF loading and lookups run later, off
 * the gateway's path, and are rate-limited per device. No ELF, no decode: nothing is published.
 */
import type { CrashDecodeLimits } from '../config';
import type { NotificationBus, Published } from '../events/notification-bus';
import { parseBacktraceLine, type BacktraceLine } from '../firmware/panic-backtrace';
import type { FirmwareLibrary } from '../firmware/firmware-library';
import type { DecodedBacktrace, DecodedFrame } from '../../shared/crash';
import { LOG_DECODED } from '../../shared/crash';
import type { Json } from '../../shared/types';
import {
  ConsoleLineBuffer,
  PerDeviceRate,
  type CompletedLine,
  type ConsoleChunkMeta,
} from './console-lines';
import { ElfDebugCache, type ElfDebug } from './elf-debug-cache';

export type FirmwareLookup = Pick<FirmwareLibrary, 'findByFwId' | 'installedOn' | 'elfPathOf'>;

export interface CrashDecoderDeps {
  bus: NotificationBus;
  firmware: FirmwareLookup;
  /** The `fw_id` the device reports (its shadow's `reported.ota.fw_id`), or undefined. */
  reportedFwId(device: string): string | undefined;
  limits: CrashDecodeLimits;
  now?: () => number;
  onError?: (err: unknown, device: string) => void;
  /** Replaces the ELF loader (tests). */
  cache?: ElfDebugCache;
}

export interface CrashDecoderStats {
  backtraces: number;
  decoded: number;
  rateLimited: number;
  noElf: number;
  failed: number;
}

export class CrashDecoder {
  private readonly lines: ConsoleLineBuffer;
  private readonly rate: PerDeviceRate;
  private readonly cache: ElfDebugCache;
  private readonly idle = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private unsubscribe: (() => void) | null = null;
  private readonly now: () => number;
  readonly stats: CrashDecoderStats = {
    backtraces: 0,
    decoded: 0,
    rateLimited: 0,
    noElf: 0,
    failed: 0,
  };

  constructor(private readonly deps: CrashDecoderDeps) {
    this.lines = new ConsoleLineBuffer(deps.limits.maxLineBytes);
    this.rate = new PerDeviceRate(deps.limits.maxPerDevicePerMinute);
    this.cache =
      deps.cache ?? new ElfDebugCache(deps.limits.elfCacheEntries, deps.limits.maxElfBytes);
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    this.unsubscribe ??= this.deps.bus.subscribe((p) => this.onNotification(p));
  }

  /** Stops listening and waits for decodes already running (their results are still published). */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const t of this.idle.values()) clearTimeout(t);
    this.idle.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private onNotification({ n }: Published): void {
    if (n.name === 'rpc.out.Log') {
      const chunk = logText(n.data);
      if (chunk === null) return;
      const meta = logMeta(n.data);
      for (const line of this.lines.push(n.id, chunk.text, meta)) this.onLine(n.id, line);
      this.armIdleFlush(n.id, meta);
    } else if (n.name === 'offline' || n.name === 'deleted') {
      this.forget(n.id);
    }
  }

  /** A line without its newline is taken as complete after a pause (the last line before a halt). */
  private armIdleFlush(device: string, meta: ConsoleChunkMeta): void {
    const old = this.idle.get(device);
    if (old) clearTimeout(old);
    this.idle.delete(device);
    if (!this.lines.hasPartial(device)) return;
    const t = setTimeout(() => {
      this.idle.delete(device);
      const line = this.lines.flush(device, meta);
      if (line) this.onLine(device, line);
    }, this.deps.limits.lineIdleMs);
    t.unref();
    this.idle.set(device, t);
  }

  private forget(device: string): void {
    const t = this.idle.get(device);
    if (t) clearTimeout(t);
    this.idle.delete(device);
    const line = this.lines.flush(device, { seq: null, t: null });
    if (line) this.onLine(device, line);
    this.rate.drop(device);
  }

  private onLine(device: string, line: CompletedLine): void {
    if (!line.text.includes('Backtrace:')) return;
    const bt = parseBacktraceLine(line.text);
    if (!bt) return;
    this.stats.backtraces++;
    if (!this.rate.take(device, this.now())) {
      this.stats.rateLimited++;
      return;
    }
    const job = this.decode(device, line, bt).catch((err: unknown) => {
      this.stats.failed++;
      this.deps.onError?.(err, device);
    });
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  private async decode(device: string, line: CompletedLine, bt: BacktraceLine): Promise<void> {
    const fwId = this.deps.reportedFwId(device) ?? '';
    const fw = this.firmwareFor(device, fwId);
    const elfPath = fw === null ? null : this.deps.firmware.elfPathOf(fw);
    if (fw === null || elfPath === null) {
      this.stats.noElf++;
      return;
    }
    const debug = await this.cache.get(elfPath);
    const data: DecodedBacktrace = {
      seq: line.seq,
      t: line.t,
      firmware: fw,
      fw_id: fwId,
      backtrace: line.text,
      frames: bt.frames.map((f) => decodeFrame(f.pc, debug)),
      corrupted: bt.corrupted,
    };
    this.stats.decoded++;
    this.deps.bus.publish({ name: LOG_DECODED, id: device, data });
  }

  /** The library firmware the device runs, or null when the hub cannot tell. */
  private firmwareFor(device: string, fwId: string): string | null {
    if (fwId !== '') {
      const known = this.deps.firmware.findByFwId(fwId);
      if (known) return known.id;
    }
    const installs = this.deps.firmware.installedOn(device);
    for (let i = installs.length - 1; i >= 0; i--) {
      const inst = installs[i];
      // A device that reports another fw_id than what we installed has rolled back or been
      // flashed by other means: its last install would decode with the wrong ELF.
      if (inst && (fwId === '' || inst.fw_id === fwId)) return inst.firmware;
    }
    return null;
  }
}

function decodeFrame(pc: number, debug: ElfDebug): DecodedFrame {
  const sym = debug.symbols?.lookup(pc) ?? null;
  const src = debug.lines?.lookup(pc) ?? null;
  return {
    pc: `0x${pc.toString(16).padStart(8, '0')}`,
    function: sym?.name ?? null,
    file: src?.file ?? null,
    line: src?.line ?? null,
  };
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The console text of a `Log` notification's params (PROTOCOL.md 2: `{"fd","data","t","seq"}`). */
function logText(data: Json): { text: string } | null {
  if (typeof data === 'string') return { text: data };
  if (isObject(data) && typeof data.data === 'string') return { text: data.data };
  return null;
}

function logMeta(data: Json): ConsoleChunkMeta {
  if (!isObject(data)) return { seq: null, t: null };
  return {
    seq: typeof data.seq === 'number' ? data.seq : null,
    t: typeof data.t === 'number' ? data.t : null,
  };
}
