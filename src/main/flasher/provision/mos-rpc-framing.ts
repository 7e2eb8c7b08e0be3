/**
 * Mongoose OS RPC-over-UART framing, pure (DESIGN.md example 1). Implemented from what the two
 * ends do (mongoose-os/mos common/mgrpc/codec/stream.go + serial.go on the host,
 * mongoose-os-libs/rpc-uart src/mgos_rpc_channel_uart.c on the device):
 *
 * - A frame is JSON between `"""` delimiters, followed by metadata: the CRC32 (IEEE) of the JSON
 *   as 8 lower-case hex digits. The host writes `\n"""<json><crc>"""\n`; the device writes
 *   `"""<json><crc>"""`.
 * - The receiver treats `"""` and `\n` both as delimiters (new delimiter as of 2018/06); a frame
 *   starts at a delimiter followed by `{` (or the EOF byte 0x04) and ends at the next delimiter.
 *   Everything else on the line is console output ("junk"): boot log, LOG() lines.
 * - Handshake: the host repeats `"""\x04"""\n\n` every 200 ms until the device answers with the
 *   one-byte frame `"""\x04"""`; the device then keeps its log quiet while it sends a frame.
 * - The host strips XON (0x11) / XOFF (0x13), which never occur in valid JSON (serial.go).
 * - Frame fields (common/mgrpc/frame/frame.go): request `{"id","method","params"}`, response
 *   `{"id","result"}` or `{"id","error":{"code","message"}}`, plus optional "v", "src", "dst", "tag".
 */
import Type from 'typebox';
import { isValid } from '../../validate';

export const MOS_DELIMITER = '"""';
export const MOS_EOF_BYTE = 0x04;
const XON = 0x11;
const XOFF = 0x13;
const QUOTE = 0x22;
const NL = 0x0a;
const OPEN_BRACE = 0x7b;

/** Sent repeatedly until the device answers `"""\x04"""` (serial.go WriteWithContext). */
export const MOS_HANDSHAKE: Uint8Array = Uint8Array.from(Buffer.from('"""\x04"""\n\n', 'latin1'));

/** The device's answer to a handshake (mgos_rpc_channel_uart.c). */
export const MOS_HANDSHAKE_REPLY: Uint8Array = Uint8Array.from(Buffer.from('"""\x04"""', 'latin1'));

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32/IEEE (the zlib/`hash/crc32.ChecksumIEEE` polynomial). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c = (CRC_TABLE[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function crcHex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

/** Host side: `\n"""<json><crc32 hex>"""\n`. */
export function encodeMosFrame(frame: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(frame), 'utf8');
  return Uint8Array.from(
    Buffer.concat([
      Buffer.from(`\n${MOS_DELIMITER}`, 'latin1'),
      json,
      Buffer.from(`${crcHex(json)}${MOS_DELIMITER}\n`, 'latin1'),
    ]),
  );
}

/** Device side: `"""<json><crc32 hex>"""` (what rpc-uart sends; used by the test peer). */
export function encodeMosDeviceFrame(frame: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(frame), 'utf8');
  return Uint8Array.from(
    Buffer.concat([
      Buffer.from(MOS_DELIMITER, 'latin1'),
      json,
      Buffer.from(`${crcHex(json)}${MOS_DELIMITER}`, 'latin1'),
    ]),
  );
}

export type MosDecoded =
  | { type: 'frame'; frame: unknown }
  /** The device answered the handshake. */
  | { type: 'ready' }
  /** Console output between frames (boot log, LOG lines). */
  | { type: 'junk'; text: string }
  /** A frame-shaped chunk that failed its CRC or did not parse; it is dropped. */
  | { type: 'corrupt'; reason: string };

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/**
 * Streaming receiver: push bytes as they arrive; get frames, handshake replies and junk.
 * Bounded: a frame start without an end within `maxFrameBytes` is dropped as corrupt.
 */
export class MosFrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  push(chunk: Uint8Array): MosDecoded[] {
    const clean = Buffer.from(chunk).filter((b) => b !== XON && b !== XOFF);
    this.buf = this.buf.length === 0 ? Buffer.from(clean) : Buffer.concat([this.buf, clean]);
    const out: MosDecoded[] = [];
    const junk = (end: number) => {
      if (end <= 0) return;
      out.push({ type: 'junk', text: this.buf.subarray(0, end).toString('utf8') });
    };
    for (;;) {
      const d = findDelimiter(this.buf, 0);
      if (!d) {
        // Keep a trailing `"` or `""`: it may be the start of a delimiter.
        let keep = 0;
        while (keep < 2 && keep < this.buf.length && this.buf[this.buf.length - 1 - keep] === QUOTE)
          keep++;
        junk(this.buf.length - keep);
        this.buf = this.buf.subarray(this.buf.length - keep);
        break;
      }
      const dataStart = d.at + d.len;
      if (dataStart >= this.buf.length) {
        // Need one more byte to know whether a frame starts here.
        junk(d.at);
        this.buf = this.buf.subarray(d.at);
        break;
      }
      const next = this.buf[dataStart];
      if (next !== OPEN_BRACE && next !== MOS_EOF_BYTE) {
        junk(dataStart);
        this.buf = this.buf.subarray(dataStart);
        continue;
      }
      junk(d.at);
      this.buf = this.buf.subarray(d.at);
      const start = d.len;
      const end = findDelimiter(this.buf, start);
      if (!end) {
        if (this.buf.length > this.maxFrameBytes) {
          out.push({ type: 'corrupt', reason: `frame longer than ${this.maxFrameBytes} bytes` });
          this.buf = this.buf.subarray(start);
          continue;
        }
        break;
      }
      const data = this.buf.subarray(start, end.at);
      this.buf = this.buf.subarray(end.at + end.len);
      out.push(decodeFrameData(data));
    }
    // Copy so the retained tail does not pin a large chunk.
    this.buf = Buffer.from(this.buf);
    return out;
  }
}

function findDelimiter(buf: Buffer, from: number): { at: number; len: number } | null {
  const q = buf.indexOf(MOS_DELIMITER, from, 'latin1');
  const n = buf.indexOf(NL, from);
  if (q < 0 && n < 0) return null;
  if (q >= 0 && (n < 0 || q < n)) return { at: q, len: 3 };
  return { at: n, len: 1 };
}

function decodeFrameData(data: Buffer): MosDecoded {
  if (data.length === 1 && data[0] === MOS_EOF_BYTE) return { type: 'ready' };
  let text = data.toString('utf8').trimEnd();
  const lastBrace = text.lastIndexOf('}');
  if (lastBrace < 0) return { type: 'corrupt', reason: 'frame has no closing brace' };
  const meta = text.slice(lastBrace + 1);
  text = text.slice(0, lastBrace + 1);
  if (meta !== '') {
    const crcField = meta.split(',')[0] ?? '';
    if (!/^[0-9a-fA-F]{1,8}$/.test(crcField)) {
      return {
        type: 'corrupt',
        reason: `malformed frame metadata ${JSON.stringify(meta.slice(0, 32))}`,
      };
    }
    const want = parseInt(crcField, 16) >>> 0;
    const got = crc32(Buffer.from(text, 'utf8'));
    if (want !== got) {
      return {
        type: 'corrupt',
        reason: `CRC mismatch: frame says ${want.toString(16).padStart(8, '0')}, data is ${got.toString(16).padStart(8, '0')}`,
      };
    }
  }
  try {
    return { type: 'frame', frame: JSON.parse(text) as unknown };
  } catch {
    return { type: 'corrupt', reason: 'frame is not valid JSON' };
  }
}

export const MosResponseSchema = Type.Object({
  id: Type.Number(),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.Number(), message: Type.Optional(Type.String()) })),
});
export type MosResponse = Type.Static<typeof MosResponseSchema>;

/** A response frame (has a numeric id and no method), or null for anything else. */
export function asMosResponse(frame: unknown): MosResponse | null {
  if (typeof frame !== 'object' || frame === null || 'method' in frame) return null;
  return isValid(MosResponseSchema, frame) ? frame : null;
}

export interface MosRequest {
  id: number;
  method: string;
  params?: unknown;
  /** Our address; mos uses its own ("mos") so the device replies to it. */
  src?: string;
}

export function mosRequest(id: number, method: string, params?: unknown): MosRequest {
  const req: MosRequest = { id, method, src: 'fleetbench' };
  if (params !== undefined) req.params = params;
  return req;
}
