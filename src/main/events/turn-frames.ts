/**
 * The WebSocket frames of one event-loop turn's notifications, made once for every management
 * stream (`/api/v2/notify`, PROTOCOL.md 7). Those streams carry every notification unfiltered, so
 * their bytes are the same: instead of one `ws.send` per notification per stream (a frame header,
 * a write request and two buffers each: with 10 dashboards a shadow storm made 20 sends per
 * update, issue 11), the turn's frames are laid out once in ONE buffer after the turn, and each
 * stream's socket gets one write of its part of it.
 *
 * The frames are what `ws` sends for a text message from a server: FIN, opcode 1, no mask, the
 * shortest length encoding (RFC 6455 5.2). Nothing else writes data frames on those sockets; `ws`
 * only adds its own control frames (pong, close), whole and in between.
 *
 * A member records which of the turn's notifications it received (from its first to its last:
 * a stream that opens mid-turn gets only what was published after it subscribed).
 */
import type { NotificationBus, Published } from './notification-bus';

export interface TurnMember {
  /** Index of the first of this turn's notifications the member received; -1: none yet. */
  start: number;
  /** One past the last. */
  end: number;
  /** Sends its part of the turn's frames (a view of the shared buffer). */
  flush(frames: Buffer): void;
}

/** Bytes of a server frame header for a payload of `len` bytes (RFC 6455 5.2). */
export function frameHeaderSize(len: number): number {
  return len < 126 ? 2 : len < 65_536 ? 4 : 10;
}

/** Writes the header of a final, unmasked text frame of `len` bytes at `at`; returns its end. */
export function writeFrameHeader(buf: Buffer, at: number, len: number): number {
  buf[at] = 0x81;
  if (len < 126) {
    buf[at + 1] = len;
    return at + 2;
  }
  if (len < 65_536) {
    buf[at + 1] = 126;
    buf.writeUInt16BE(len, at + 2);
    return at + 4;
  }
  buf[at + 1] = 127;
  buf.writeBigUInt64BE(BigInt(len), at + 2);
  return at + 10;
}

export class TurnFrames {
  private items: Published[] = [];
  private bytes = 0;
  private scheduled = false;
  private readonly members = new Set<TurnMember>();
  private readonly unsubscribe: () => void;

  /** Subscribe this before any member: it must see each notification before they do. */
  constructor(bus: NotificationBus) {
    this.unsubscribe = bus.subscribe((p) => this.collect(p));
  }

  join(m: TurnMember): void {
    this.members.add(m);
  }

  leave(m: TurnMember): void {
    this.members.delete(m);
  }

  /** Called by a member's own subscriber: it received `p` (collected just before). */
  received(m: TurnMember, p: Published): void {
    // The newest item, unless a subscriber published from inside its delivery (nested).
    let i = this.items.length - 1;
    if (this.items[i] !== p) i = this.items.lastIndexOf(p);
    if (i < 0) return;
    if (m.start < 0 || i < m.start) m.start = i;
    if (i + 1 > m.end) m.end = i + 1;
  }

  close(): void {
    this.unsubscribe();
    this.members.clear();
    this.items = [];
  }

  private collect(p: Published): void {
    if (this.members.size === 0) return;
    this.items.push(p);
    this.bytes += p.bytes.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const items = this.items;
    const payloadBytes = this.bytes;
    this.items = [];
    this.bytes = 0;
    if (items.length === 0) return;
    let headers = 0;
    for (const p of items) headers += frameHeaderSize(p.bytes.length);
    const buf = Buffer.allocUnsafe(headers + payloadBytes);
    const offsets = new Array<number>(items.length + 1);
    let at = 0;
    items.forEach((p, i) => {
      offsets[i] = at;
      at = writeFrameHeader(buf, at, p.bytes.length);
      at += p.bytes.copy(buf, at);
    });
    offsets[items.length] = at;
    for (const m of this.members) {
      if (m.start < 0) continue;
      const part = buf.subarray(offsets[m.start] ?? at, offsets[m.end] ?? at);
      m.start = -1;
      m.end = -1;
      m.flush(part);
    }
  }
}
