/**
 * A bounded byte ring holding the last N bytes a port produced (issue: "a bounded scrollback (ring
 * of the last N KB)"), so a dashboard tab opened late sees what came before. Pure; O(chunk) per
 * push and one copy on read.
 */
export const DEFAULT_SCROLLBACK_BYTES = 64 * 1024;

export class Scrollback {
  private readonly buf: Uint8Array;
  private start = 0;
  private length = 0;
  private total = 0;

  constructor(readonly capacity = DEFAULT_SCROLLBACK_BYTES) {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`scrollback capacity must be a positive integer, got ${capacity}`);
    }
    this.buf = new Uint8Array(capacity);
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    let data = chunk;
    if (data.length >= this.capacity) {
      data = data.subarray(data.length - this.capacity);
      this.buf.set(data, 0);
      this.start = 0;
      this.length = this.capacity;
      return;
    }
    let end = (this.start + this.length) % this.capacity;
    const first = Math.min(data.length, this.capacity - end);
    this.buf.set(data.subarray(0, first), end);
    this.buf.set(data.subarray(first), 0);
    end = (end + data.length) % this.capacity;
    const newLength = this.length + data.length;
    if (newLength > this.capacity) {
      this.start = (this.start + newLength - this.capacity) % this.capacity;
      this.length = this.capacity;
    } else {
      this.length = newLength;
    }
  }

  /** The retained bytes, oldest first. */
  read(): Buffer {
    const out = Buffer.alloc(this.length);
    const first = Math.min(this.length, this.capacity - this.start);
    out.set(this.buf.subarray(this.start, this.start + first), 0);
    out.set(this.buf.subarray(0, this.length - first), first);
    return out;
  }

  /** Bytes retained now. */
  get size(): number {
    return this.length;
  }

  /** Bytes ever pushed (so a client can tell how much it missed). */
  get totalBytes(): number {
    return this.total;
  }

  clear(): void {
    this.start = 0;
    this.length = 0;
  }
}
