/**
 * Reassembles a device console into lines (pure). `Log` notifications (PROTOCOL.md 2) carry
 * whatever the firmware's log writer flushed: part of a line, a line, or several; a panic
 * backtrace is often split across frames. Each device has its own partial line; a finished line
 * carries the `seq` / `t` of the frame that ended it, which is where the console view shows it.
 */

export interface ConsoleChunkMeta {
  seq: number | null;
  t: number | null;
}

export interface CompletedLine extends ConsoleChunkMeta {
  text: string;
}

interface PendingLine {
  text: string;
  /** The line was cut at maxLineBytes; the rest up to the next newline is dropped. */
  cut: boolean;
}

export class ConsoleLineBuffer {
  private readonly partial = new Map<string, PendingLine>();

  constructor(private readonly maxLineChars: number) {}

  /** Devices with a partial line waiting. */
  get pending(): number {
    return this.partial.size;
  }

  hasPartial(device: string): boolean {
    return this.partial.has(device);
  }

  /** Adds a chunk of console output; returns the lines it completed, in order. */
  push(device: string, chunk: string, meta: ConsoleChunkMeta): CompletedLine[] {
    const out: CompletedLine[] = [];
    let p = this.partial.get(device) ?? { text: '', cut: false };
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      const piece = chunk.slice(start, nl < 0 ? chunk.length : nl);
      p = this.append(p, piece);
      if (nl < 0) break;
      out.push({ text: p.text.replace(/\r$/, ''), ...meta });
      p = { text: '', cut: false };
      start = nl + 1;
    }
    if (p.text === '' && !p.cut) this.partial.delete(device);
    else this.partial.set(device, p);
    return out;
  }

  /** The partial line as a finished one (after an idle pause, or when the device goes away). */
  flush(device: string, meta: ConsoleChunkMeta): CompletedLine | null {
    const p = this.partial.get(device);
    this.partial.delete(device);
    if (!p || p.text === '') return null;
    return { text: p.text.replace(/\r$/, ''), ...meta };
  }

  drop(device: string): void {
    this.partial.delete(device);
  }

  private append(p: PendingLine, piece: string): PendingLine {
    if (p.cut || piece === '') return p;
    const room = this.maxLineChars - p.text.length;
    if (piece.length <= room) return { text: p.text + piece, cut: false };
    return { text: p.text + piece.slice(0, Math.max(0, room)), cut: true };
  }
}

/**
 * Sliding one-minute window per device (pure; the caller passes the clock). A device in a boot
 * loop prints a backtrace every few seconds; decoding each would cost ELF work for nothing new.
 */
export class PerDeviceRate {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly windowMs = 60_000,
  ) {}

  /** True (and counted) when `device` may decode one more at `now`. */
  take(device: string, now: number): boolean {
    const recent = (this.hits.get(device) ?? []).filter((at) => now - at < this.windowMs);
    if (recent.length >= this.perMinute) {
      this.hits.set(device, recent);
      return false;
    }
    recent.push(now);
    this.hits.set(device, recent);
    return true;
  }

  drop(device: string): void {
    this.hits.delete(device);
  }
}
