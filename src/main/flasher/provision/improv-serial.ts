/**
 * Improv Wi-Fi serial packet codec, pure (issue: "Improv serial (ESPHome, WLED, Tasmota and
 * others)"). Layout per improv-wifi.com/serial and improv-wifi/sdk-serial-js src/serial.ts:
 *
 *   "IMPROV" (6 bytes) | version (1) | type (1) | length (1) | data (length) | checksum (1)
 *
 * checksum = low byte of the sum of every preceding byte of the packet (header included). The
 * client ends its packets with "\n" (the device's console reader is line based); devices may or
 * may not. Types: 0x01 current state, 0x02 error state (device -> client), 0x03 RPC (client ->
 * device), 0x04 RPC result (device -> client).
 *
 * RPC data (inside a serial packet, no inner checksum): command (1) | data length (1) | data.
 * RPC result data: command (1) | total length (1) | then strings, each length (1) + UTF-8 bytes.
 * Send Wi-Fi settings data: ssid length | ssid | password length | password.
 */
export const IMPROV_HEADER = Uint8Array.from([0x49, 0x4d, 0x50, 0x52, 0x4f, 0x56]); // "IMPROV"
export const IMPROV_VERSION = 1;

export const ImprovType = {
  CURRENT_STATE: 0x01,
  ERROR_STATE: 0x02,
  RPC: 0x03,
  RPC_RESULT: 0x04,
} as const;

export const ImprovState = {
  STOPPED: 0x00,
  AUTHORIZATION_REQUIRED: 0x01,
  READY: 0x02,
  PROVISIONING: 0x03,
  PROVISIONED: 0x04,
} as const;

export const ImprovError = {
  NONE: 0x00,
  INVALID_RPC: 0x01,
  UNKNOWN_RPC: 0x02,
  UNABLE_TO_CONNECT: 0x03,
  NOT_AUTHORIZED: 0x04,
  UNKNOWN: 0xff,
} as const;

export const ImprovCommand = {
  SEND_WIFI_SETTINGS: 0x01,
  REQUEST_CURRENT_STATE: 0x02,
  REQUEST_INFO: 0x03,
  REQUEST_WIFI_NETWORKS: 0x04,
} as const;

const STATE_NAMES: Record<number, string> = {
  0x00: 'stopped',
  0x01: 'authorization required',
  0x02: 'ready',
  0x03: 'provisioning',
  0x04: 'provisioned',
};

const ERROR_TEXT: Record<number, string> = {
  0x00: 'no error',
  0x01: 'the device rejected the packet as invalid (bad checksum or malformed RPC)',
  0x02: 'the device does not know this RPC command',
  0x03: 'the device could not connect to the Wi-Fi network',
  0x04: 'the device requires authorization (press its button)',
  0xfe: 'timed out',
  0xff: 'unknown error on the device',
};

export function improvStateName(state: number): string {
  return STATE_NAMES[state] ?? `unknown state 0x${state.toString(16)}`;
}

export function improvErrorText(code: number): string {
  return ERROR_TEXT[code] ?? `unknown error 0x${code.toString(16)}`;
}

function checksum(bytes: Uint8Array, end: number): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += bytes[i] ?? 0;
  return sum & 0xff;
}

/** A full serial packet, with the trailing "\n" clients send (sdk-serial-js writePacketToStream). */
export function encodeImprovPacket(type: number, data: Uint8Array, newline = true): Uint8Array {
  if (data.length > 255)
    throw new RangeError(`Improv packet data is ${data.length} bytes, max 255`);
  const out = new Uint8Array(6 + 3 + data.length + 1 + (newline ? 1 : 0));
  out.set(IMPROV_HEADER, 0);
  out[6] = IMPROV_VERSION;
  out[7] = type & 0xff;
  out[8] = data.length;
  out.set(data, 9);
  out[9 + data.length] = checksum(out, 9 + data.length);
  if (newline) out[10 + data.length] = 0x0a;
  return out;
}

export function encodeImprovRpc(
  command: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (payload.length > 253)
    throw new RangeError(`Improv RPC payload is ${payload.length} bytes, max 253`);
  const data = new Uint8Array(2 + payload.length);
  data[0] = command;
  data[1] = payload.length;
  data.set(payload, 2);
  return encodeImprovPacket(ImprovType.RPC, data);
}

/** Length-prefixed strings (each at most 255 bytes). */
export function encodeImprovStrings(strings: readonly string[]): Uint8Array {
  const parts = strings.map((s) => new TextEncoder().encode(s));
  const total = parts.reduce((n, p) => n + 1 + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    if (p.length > 255) throw new RangeError('an Improv string is longer than 255 bytes');
    out[o++] = p.length;
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function encodeWifiSettings(ssid: string, pass: string): Uint8Array {
  return encodeImprovRpc(ImprovCommand.SEND_WIFI_SETTINGS, encodeImprovStrings([ssid, pass]));
}

/** Device side of an RPC result (used by the test peer). */
export function encodeImprovRpcResult(
  command: number,
  strings: readonly string[],
  newline = true,
): Uint8Array {
  const body = encodeImprovStrings(strings);
  const data = new Uint8Array(2 + body.length);
  data[0] = command;
  data[1] = body.length;
  data.set(body, 2);
  return encodeImprovPacket(ImprovType.RPC_RESULT, data, newline);
}

export interface ImprovPacket {
  type: number;
  data: Uint8Array;
}

export type ImprovDecoded =
  | { kind: 'packet'; packet: ImprovPacket }
  | { kind: 'bad_checksum'; type: number; expected: number; got: number }
  | { kind: 'bad_version'; version: number }
  /** A packet cut short by the start of another one. */
  | { kind: 'truncated'; type: number }
  /** Console text between packets (ESPHome logs on the same UART), line by line. */
  | { kind: 'text'; text: string };

/**
 * Streaming decoder. Finds "IMPROV" anywhere in the stream (logs may precede a packet on the same
 * line), validates version and checksum, and hands back everything else as text.
 */
export class ImprovDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  private text: number[] = [];

  push(chunk: Uint8Array): ImprovDecoded[] {
    const merged = new Uint8Array(this.buf.length + chunk.length);
    merged.set(this.buf, 0);
    merged.set(chunk, this.buf.length);
    this.buf = merged;
    const out: ImprovDecoded[] = [];
    let i = 0;
    while (i < this.buf.length) {
      const h = indexOfHeader(this.buf, i);
      if (h < 0) {
        // Keep a tail that could be the start of a header.
        const keep = headerPrefixTail(this.buf);
        this.addText(this.buf.subarray(i, this.buf.length - keep), out);
        i = this.buf.length - keep;
        break;
      }
      this.addText(this.buf.subarray(i, h), out);
      if (this.buf.length < h + 9) {
        i = h;
        break;
      }
      const version = this.buf[h + 6] ?? 0;
      const type = this.buf[h + 7] ?? 0;
      const len = this.buf[h + 8] ?? 0;
      const total = 9 + len + 1;
      if (this.buf.length < h + total) {
        // A corrupted length byte would make us wait for bytes that never come; a newer header
        // before the end means this packet was cut short.
        const nextHeader = indexOfHeader(this.buf, h + IMPROV_HEADER.length);
        if (nextHeader >= 0) {
          out.push({ kind: 'truncated', type });
          i = nextHeader;
          continue;
        }
        i = h;
        break;
      }
      const packet = this.buf.subarray(h, h + total);
      const expected = checksum(packet, total - 1);
      const got = packet[total - 1] ?? 0;
      if (version !== IMPROV_VERSION || expected !== got) {
        out.push(
          version !== IMPROV_VERSION
            ? { kind: 'bad_version', version }
            : { kind: 'bad_checksum', type, expected, got },
        );
        // Resume right after the header: if the length byte was the corrupted one, skipping
        // `total` bytes could swallow the next good packet.
        i = h + IMPROV_HEADER.length;
        continue;
      }
      out.push({ kind: 'packet', packet: { type, data: packet.slice(9, 9 + len) } });
      i = h + total;
    }
    this.buf = this.buf.slice(i);
    return out;
  }

  private addText(bytes: Uint8Array, out: ImprovDecoded[]): void {
    for (const b of bytes) {
      if (b === 0x0a) {
        const line = new TextDecoder().decode(Uint8Array.from(this.text)).replace(/\r$/, '');
        this.text = [];
        if (line !== '') out.push({ kind: 'text', text: line });
      } else if (this.text.length < 4096) {
        this.text.push(b);
      }
    }
  }
}

function indexOfHeader(buf: Uint8Array, from: number): number {
  outer: for (let i = from; i + IMPROV_HEADER.length <= buf.length; i++) {
    for (let j = 0; j < IMPROV_HEADER.length; j++) {
      if (buf[i + j] !== IMPROV_HEADER[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function headerPrefixTail(buf: Uint8Array): number {
  for (let k = Math.min(IMPROV_HEADER.length - 1, buf.length); k > 0; k--) {
    let ok = true;
    for (let j = 0; j < k; j++) {
      if (buf[buf.length - k + j] !== IMPROV_HEADER[j]) {
        ok = false;
        break;
      }
    }
    if (ok) return k;
  }
  return 0;
}

/** Parses RPC result data into its command and strings; null if malformed. */
export function parseImprovRpcResult(
  data: Uint8Array,
): { command: number; strings: string[] } | null {
  if (data.length < 2) return null;
  const command = data[0] ?? 0;
  const total = data[1] ?? 0;
  if (2 + total > data.length) return null;
  const strings: string[] = [];
  let i = 2;
  while (i < 2 + total) {
    const n = data[i] ?? 0;
    if (i + 1 + n > 2 + total) return null;
    strings.push(new TextDecoder().decode(data.subarray(i + 1, i + 1 + n)));
    i += 1 + n;
  }
  return { command, strings };
}

/** Parses RPC command data (device side / peer); null if malformed. */
export function parseImprovRpc(data: Uint8Array): { command: number; payload: Uint8Array } | null {
  if (data.length < 2) return null;
  const len = data[1] ?? 0;
  if (2 + len !== data.length) return null;
  return { command: data[0] ?? 0, payload: data.slice(2) };
}

/** Splits length-prefixed strings (Wi-Fi settings payload); null if malformed. */
export function parseImprovStrings(payload: Uint8Array): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < payload.length) {
    const n = payload[i] ?? 0;
    if (i + 1 + n > payload.length) return null;
    out.push(new TextDecoder().decode(payload.subarray(i + 1, i + 1 + n)));
    i += 1 + n;
  }
  return out;
}
