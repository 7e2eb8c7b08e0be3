/**
 * Hand-built zip archives for the tests of firmware/safe-unzip.ts: every header field can lie
 * (declared sizes, CRC, names), which no zip library will write for us. Layouts: PKWARE APPNOTE
 * 4.3.7 (local header), 4.3.12 (central directory header), 4.3.16 (end record).
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface CraftEntry {
  name: string;
  /** The real content (inflated). */
  data: Uint8Array;
  method?: 0 | 8;
  /** What the headers claim the entry inflates to (default: the truth). */
  declaredSize?: number;
  /** What the headers claim the CRC-32 is (default: the truth). */
  crc?: number;
}

export function craftZip(entries: CraftEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const method = e.method ?? 8;
    const body = method === 8 ? deflateRawSync(e.data) : Buffer.from(e.data);
    const name = Buffer.from(e.name, 'utf8');
    const crc = e.crc ?? crc32(e.data);
    const size = e.declaredSize ?? e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}

/** A real esp_app_desc_t inside a real-format ESP-IDF app image header (esp_app_format.h). */
export function espAppImage(opts: {
  chipId?: number;
  version?: string;
  project?: string;
  time?: string;
  date?: string;
  idf?: string;
  elfSha256?: Uint8Array;
  size?: number;
  fill?: number;
}): Uint8Array {
  const img = Buffer.alloc(opts.size ?? 4096, opts.fill ?? 0x5a);
  img[0] = 0xe9;
  img[1] = 4; // segments
  img[2] = 2; // DIO
  img[3] = 0x20; // 4MB, 40 MHz
  img.writeUInt32LE(0x40081234, 4); // entry
  img[8] = 0xee; // wp pin: not used
  img.fill(0, 9, 12);
  img.writeUInt16LE(opts.chipId ?? 0, 12);
  img.fill(0, 14, 23);
  img[23] = 1; // hash appended
  img.writeUInt32LE(0x3f400020, 24); // first segment: DROM, holds the descriptor
  img.writeUInt32LE(0x1000, 28);
  const d = 32;
  img.fill(0, d, d + 256);
  img.writeUInt32LE(0xabcd5432, d);
  img.writeUInt32LE(0, d + 4);
  img.write(opts.version ?? '1.0.0', d + 16, 31, 'utf8');
  img.write(opts.project ?? 'blink', d + 48, 31, 'utf8');
  img.write(opts.time ?? '12:00:00', d + 80, 15, 'utf8');
  img.write(opts.date ?? 'Dec  5 2026', d + 96, 15, 'utf8');
  img.write(opts.idf ?? 'v5.2.1', d + 112, 31, 'utf8');
  if (opts.elfSha256) Buffer.from(opts.elfSha256).copy(img, d + 144, 0, 32);
  return new Uint8Array(img);
}
