/**
 * Turns a flash request's image (.bin bytes, or Intel HEX text) into one contiguous span of bytes
 * at one address. Pure. HEX is parsed by nrf-intel-hex (FLASHING.md 5) and gaps are filled with
 * 0xFF like stm32flash's parsers/hex.c (FLASHING.md 4.3): 0xFF is what erased flash reads as.
 */
import { createRequire } from 'node:module';
import type MemoryMap from 'nrf-intel-hex';
import { FlashError } from '../../../shared/flash-state';
import { hex } from './an3155-codec';

let hexParser: typeof MemoryMap | undefined;
/**
 * nrf-intel-hex, loaded with the first HEX image: a hub imports this file with its flasher but
 * may never flash an STM32 from HEX, and the parser's 73 KB of source would stay in its heap
 * (issue 11, idle RSS).
 */
function memoryMap(): typeof MemoryMap {
  return (hexParser ??= createRequire(import.meta.url)('nrf-intel-hex') as typeof MemoryMap);
}

export type Stm32Image =
  { kind: 'bin'; data: Uint8Array; address?: number } | { kind: 'hex'; text: string };

export interface FlatImage {
  address: number;
  data: Uint8Array;
}

/**
 * Largest span (first to last byte) a HEX file may cover. The largest STM32 flash is 2 MB; the
 * limit only stops a file with data at far-apart addresses (say flash plus option bytes at
 * 0x1FFFF800) from making us allocate hundreds of MB of 0xFF padding.
 */
export const MAX_IMAGE_SPAN = 16 * 1024 * 1024;

export function flattenImage(image: Stm32Image, defaultAddress: number): FlatImage {
  if (image.kind === 'bin') {
    if (image.data.length === 0) throw new FlashError('bad_image', 'the image is empty');
    if (image.data.length > MAX_IMAGE_SPAN) {
      throw new FlashError('image_too_large', `the image is ${image.data.length} bytes`);
    }
    return { address: image.address ?? defaultAddress, data: image.data };
  }
  let map: MemoryMap;
  try {
    map = memoryMap().fromHex(image.text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new FlashError('bad_image', `not a valid Intel HEX file: ${msg}`);
  }
  let start = Infinity;
  let end = -Infinity;
  for (const [addr, bytes] of map) {
    if (bytes.length === 0) continue;
    start = Math.min(start, addr);
    end = Math.max(end, addr + bytes.length);
  }
  if (!Number.isFinite(start)) {
    throw new FlashError('bad_image', 'the Intel HEX file holds no data records');
  }
  if (end - start > MAX_IMAGE_SPAN) {
    throw new FlashError(
      'image_too_large',
      `the Intel HEX data spans ${hex(start)}..${hex(end)} (${end - start} bytes)`,
      'a HEX file with option bytes or RAM sections cannot be flashed as one image',
    );
  }
  return { address: start, data: map.slicePad(start, end - start, 0xff) };
}
