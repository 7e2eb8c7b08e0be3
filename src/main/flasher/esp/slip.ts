/**
 * SLIP framing for the ESP serial bootloader protocol (FLASHING.md 2.1). Pure: bytes in, frames out.
 *
 * Every packet travels as `C0 … C0`; inside it `C0` is sent as `DB DC` and `DB` as `DB DD`.
 * Escaping is applied after lengths and checksums are computed, so it never changes them.
 * The decoder is streaming (a frame may arrive split over many serial reads) and reports bytes
 * outside frames as `noise` instead of failing: the ROM ignores a boot banner or line noise
 * between frames, and a simulator needs to see it to behave the same way.
 */

export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

/** Wraps one packet in a SLIP frame. */
export function slipEncode(packet: Uint8Array): Uint8Array {
  let escapes = 0;
  for (const b of packet) if (b === SLIP_END || b === SLIP_ESC) escapes++;
  const out = new Uint8Array(packet.length + escapes + 2);
  let o = 0;
  out[o++] = SLIP_END;
  for (const b of packet) {
    if (b === SLIP_END) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_END;
    } else if (b === SLIP_ESC) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_ESC;
    } else {
      out[o++] = b;
    }
  }
  out[o] = SLIP_END;
  return out;
}

export type SlipEvent =
  /** A complete, unescaped packet (never empty: `C0 C0` is ignored, as the ROM does). */
  | { kind: 'frame'; data: Uint8Array }
  /** Bytes that arrived outside any frame (boot banner, app log, line noise). */
  | { kind: 'noise'; data: Uint8Array }
  /** A frame was dropped: an invalid escape or a frame longer than `maxFrame`. */
  | { kind: 'error'; reason: 'bad_escape' | 'too_long'; discarded: number };

export interface SlipDecoderOptions {
  /** Longest accepted frame after unescaping; longer frames are dropped. Default 64 KiB. */
  maxFrame?: number;
}

/** Streaming SLIP decoder; feed it whatever the serial port delivers, in order. */
export class SlipDecoder {
  private readonly maxFrame: number;
  private inFrame = false;
  private escaping = false;
  /** Dropping the rest of a bad frame until the next `C0`. */
  private skipping = false;
  private buf: Uint8Array;
  private len = 0;
  private noise: number[] = [];

  constructor(options: SlipDecoderOptions = {}) {
    this.maxFrame = options.maxFrame ?? 64 * 1024;
    this.buf = new Uint8Array(Math.min(this.maxFrame, 1024));
  }

  /** Consumes a chunk and returns what it completed, in wire order. */
  push(chunk: Uint8Array): SlipEvent[] {
    const events: SlipEvent[] = [];
    for (const b of chunk) {
      if (!this.inFrame) {
        if (b === SLIP_END) {
          this.flushNoise(events);
          this.startFrame();
        } else {
          this.noise.push(b);
        }
        continue;
      }
      if (b === SLIP_END) {
        if (this.skipping) {
          // The end of a dropped frame; the next C0 opens a new one.
          this.inFrame = false;
          this.skipping = false;
        } else if (this.len > 0) {
          events.push({ kind: 'frame', data: this.buf.slice(0, this.len) });
          this.inFrame = false;
        }
        // An empty frame (`C0 C0`): treat the second C0 as the opening of the next frame.
        this.escaping = false;
        this.len = 0;
        continue;
      }
      if (this.skipping) continue;
      let value = b;
      if (this.escaping) {
        this.escaping = false;
        if (b === SLIP_ESC_END) value = SLIP_END;
        else if (b === SLIP_ESC_ESC) value = SLIP_ESC;
        else {
          this.drop(events, 'bad_escape');
          continue;
        }
      } else if (b === SLIP_ESC) {
        this.escaping = true;
        continue;
      }
      if (this.len >= this.maxFrame) {
        this.drop(events, 'too_long');
        continue;
      }
      this.append(value);
    }
    this.flushNoise(events);
    return events;
  }

  /** Forgets any partial frame (for example after the line speed changed). */
  reset(): void {
    this.inFrame = false;
    this.escaping = false;
    this.skipping = false;
    this.len = 0;
    this.noise = [];
  }

  private startFrame(): void {
    this.inFrame = true;
    this.escaping = false;
    this.skipping = false;
    this.len = 0;
  }

  private drop(events: SlipEvent[], reason: 'bad_escape' | 'too_long'): void {
    events.push({ kind: 'error', reason, discarded: this.len });
    this.skipping = true;
    this.escaping = false;
    this.len = 0;
  }

  private append(value: number): void {
    if (this.len === this.buf.length) {
      const bigger = new Uint8Array(Math.min(this.maxFrame, this.buf.length * 2));
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = value;
  }

  private flushNoise(events: SlipEvent[]): void {
    if (this.noise.length === 0) return;
    events.push({ kind: 'noise', data: Uint8Array.from(this.noise) });
    this.noise = [];
  }
}
