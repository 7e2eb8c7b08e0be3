/**
 * Splits a serial byte stream into text lines (issue: "`line` (string, split on \n with \r
 * stripped, partial lines flushed after 100 ms idle)"). Pure: the caller owns the idle timer and
 * calls `flushPartial()` when it fires, so a prompt such as "> " without a newline still shows.
 *
 * UTF-8 is decoded in streaming mode, so a multi-byte character split across two reads is not
 * mangled. Lines are capped: a device spewing bytes without a newline must not grow memory.
 */
export const DEFAULT_MAX_LINE_CHARS = 4096;

export class LineSplitter {
  private decoder = new TextDecoder('utf-8', { fatal: false });
  private partial = '';

  constructor(private readonly maxLineChars = DEFAULT_MAX_LINE_CHARS) {}

  /** Complete lines found in this chunk (without "\n" and a trailing "\r"). */
  push(chunk: Uint8Array): string[] {
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    const out: string[] = [];
    for (const p of parts) out.push(...this.cap(stripCr(p)));
    // A partial line past the cap is emitted in pieces now rather than held.
    while (this.partial.length > this.maxLineChars) {
      out.push(this.partial.slice(0, this.maxLineChars));
      this.partial = this.partial.slice(this.maxLineChars);
    }
    return out;
  }

  /** The pending partial line, if any (after an idle pause or at close). */
  flushPartial(): string | null {
    const rest = this.partial + this.decoder.decode();
    this.decoder = new TextDecoder('utf-8', { fatal: false });
    this.partial = '';
    const line = stripCr(rest);
    return line === '' ? null : line;
  }

  get hasPartial(): boolean {
    return this.partial !== '';
  }

  private cap(line: string): string[] {
    if (line.length <= this.maxLineChars) return [line];
    const out: string[] = [];
    for (let i = 0; i < line.length; i += this.maxLineChars) {
      out.push(line.slice(i, i + this.maxLineChars));
    }
    return out;
  }
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}
