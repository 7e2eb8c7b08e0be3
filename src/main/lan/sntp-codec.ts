/**
 * SNTP server codec (RFC 4330 section 5, server mode): a client request in, the reply out. Pure:
 * bytes and a clock reading in, bytes out, no socket (DESIGN.md example 1).
 *
 * Packet (48 bytes, big-endian): LI(2) VN(3) Mode(3) | Stratum | Poll | Precision | Root Delay |
 * Root Dispersion | Reference ID | Reference, Originate, Receive, Transmit timestamps (64-bit
 * fixed point: seconds since 1900 and a 32-bit fraction).
 */

export const NTP_PACKET_BYTES = 48;

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 0x1_0000_0000;

/**
 * Stratum 10 with reference id `LOCL`: the hub's clock is not a reference clock (GPS, atomic)
 * and may itself be unsynchronized on an offline site. Stratum 1 would make real NTP servers on
 * the same LAN (a router, a Pi running chrony) prefer the hub over a better source; 10 with
 * `LOCL` is the long-standing "undisciplined local clock" convention of ntpd, and every SNTP
 * client we serve (lwIP in ESP-IDF, Mongoose's `mg_sntp`, chrony, ntpdate) accepts any stratum
 * from 1 to 15: only 0 (kiss-o'-death) and 16 (unsynchronized) are refused.
 */
export const SNTP_STRATUM = 10;
export const SNTP_REFID = 'LOCL';
/** log2 seconds: Date.now() resolves milliseconds (2^-10 s is about 1 ms). */
export const SNTP_PRECISION = -10;
/** What the hub adds to a client's error estimate: 10 ms (NTP short format 16.16). */
const ROOT_DISPERSION = Math.round(0.01 * 65536);

export type SntpDropReason = 'short' | 'too_large' | 'bad_version' | 'not_client';

export type SntpRequest =
  | { ok: true; version: number; poll: number; transmit: Buffer }
  | { ok: false; reason: SntpDropReason };

/** Reads a client request; anything that is not one is a drop reason, never an exception. */
export function parseSntpRequest(packet: Buffer, maxBytes = 1024): SntpRequest {
  if (packet.length < NTP_PACKET_BYTES) return { ok: false, reason: 'short' };
  if (packet.length > maxBytes) return { ok: false, reason: 'too_large' };
  const first = packet[0] ?? 0;
  const version = (first >> 3) & 0x7;
  const mode = first & 0x7;
  // RFC 4330 section 5: versions 1-4 are answered; 0 and 5-7 do not exist.
  if (version < 1 || version > 4) return { ok: false, reason: 'bad_version' };
  // Only client mode (3) is answered; a server (4) or broadcast (5) packet must never get a reply
  // (two responders would otherwise ping-pong forever), symmetric modes are not ours to serve.
  if (mode !== 3) return { ok: false, reason: 'not_client' };
  return {
    ok: true,
    version,
    poll: packet.readInt8(2),
    // Copied byte for byte into Originate: clients match replies by it (RFC 4330 section 5).
    transmit: Buffer.from(packet.subarray(40, 48)),
  };
}

/** Writes Unix milliseconds (fractions allowed) as an NTP 64-bit timestamp at `offset`. */
export function writeNtpTime(buf: Buffer, offset: number, unixMs: number): void {
  const total = unixMs / 1000 + NTP_UNIX_OFFSET_S;
  const seconds = Math.floor(total);
  let fraction = Math.round((total - seconds) * TWO_32);
  let sec = seconds;
  if (fraction >= TWO_32) {
    fraction -= TWO_32;
    sec += 1;
  }
  // Era 1 starts in 2036: the seconds field wraps, as RFC 4330 section 3 describes.
  buf.writeUInt32BE(sec % TWO_32, offset);
  buf.writeUInt32BE(fraction, offset + 4);
}

/** Reads an NTP 64-bit timestamp (era 0 or, for seconds below 2^31, era 1) as Unix ms. */
export function readNtpTime(buf: Buffer, offset: number): number {
  let seconds = buf.readUInt32BE(offset);
  // RFC 4330 section 3: with the MSB clear the time is in era 1 (2036-2104).
  if ((seconds & 0x8000_0000) === 0) seconds += TWO_32;
  const fraction = buf.readUInt32BE(offset + 4);
  return (seconds - NTP_UNIX_OFFSET_S + fraction / TWO_32) * 1000;
}

/**
 * The server reply: LI 0, the client's version, mode 4, stratum 10 `LOCL`, Originate = the
 * client's Transmit, Receive = when the request arrived, Transmit = now (both hub clock, ms).
 */
export function buildSntpReply(
  request: { version: number; poll: number; transmit: Buffer },
  receivedMs: number,
  transmitMs: number,
): Buffer {
  const out = Buffer.alloc(NTP_PACKET_BYTES);
  out[0] = (0 << 6) | (request.version << 3) | 4;
  out[1] = SNTP_STRATUM;
  // Echo the client's poll interval, within the range RFC 5905 allows (4..17).
  out.writeInt8(Math.min(17, Math.max(4, request.poll)), 2);
  out.writeInt8(SNTP_PRECISION, 3);
  out.writeUInt32BE(0, 4); // root delay: the hub is its own reference
  out.writeUInt32BE(ROOT_DISPERSION, 8);
  out.write(SNTP_REFID, 12, 'ascii');
  // Reference time: when the clock was last set. The hub does not know; its clock reading now is
  // the honest bound (chrony refuses a zero reference time as unsynchronized).
  writeNtpTime(out, 16, receivedMs);
  request.transmit.copy(out, 24);
  writeNtpTime(out, 32, receivedMs);
  writeNtpTime(out, 40, transmitMs);
  return out;
}
