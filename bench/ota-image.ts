/**
 * Firmware for the OTA benchmarks: a real-format ESP32 app image (header byte 0xE9, chip id 0,
 * app descriptor with magic 0xABCD5432; PROTOCOL.md 6) of the requested size, so the hub accepts
 * it without `force` and a simulated device derives a new identity from it. Each call makes a
 * different image (the build time in the descriptor), so a device always sees a new firmware.
 */
let serial = 0;

export function benchAppImage(size: number): Uint8Array {
  serial++;
  const img = Buffer.alloc(Math.max(size, 4096));
  // Incompressible-looking filler: a cheap xorshift, so nothing on the path benefits from runs.
  let x = 0x9e3779b9 ^ (serial * 0x85ebca6b) ^ Date.now();
  for (let i = 0; i < img.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    img.writeInt32LE(x | 0, i);
  }
  img[0] = 0xe9;
  img[1] = 4; // segments
  img[2] = 2; // DIO
  img[3] = 0x20; // 4 MB flash, 40 MHz
  img.writeUInt32LE(0x40081234, 4); // entry
  img[8] = 0xee;
  img.fill(0, 9, 12);
  img.writeUInt16LE(0, 12); // chip id: ESP32
  img.fill(0, 14, 23);
  img[23] = 1;
  img.writeUInt32LE(0x3f400020, 24); // first segment (DROM) holds the descriptor
  img.writeUInt32LE(0x1000, 28);
  const d = 32;
  img.fill(0, d, d + 256);
  img.writeUInt32LE(0xabcd5432, d);
  img.write(`1.0.${serial}`, d + 16, 31, 'utf8');
  img.write('otabench', d + 48, 31, 'utf8');
  const s = serial % 60;
  const m = Math.floor(serial / 60) % 60;
  img.write(`12:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`, d + 80, 15, 'utf8');
  img.write('Dec  5 2026', d + 96, 15, 'utf8');
  img.write('v5.3.2', d + 112, 31, 'utf8');
  return new Uint8Array(img.buffer, img.byteOffset, size);
}
