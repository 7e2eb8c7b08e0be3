/**
 * Decides what a flash job sends for an image on a given part, before any byte is sent: which
 * pages to erase, and the Write Memory blocks. Pure. Mirrors what `stm32flash -w` does
 * (FLASHING.md 4.3): erase only the pages covering the image, mass erase only when asked or when
 * the image covers the whole flash, then 256-byte blocks at 4-aligned addresses.
 */
import { FlashError } from '../../../shared/flash-state';
import { MAX_BLOCK, hex } from './an3155-codec';
import { eraseUnitsOf, unitsCovering, type Stm32Device } from './device-table';
import type { FlatImage } from './firmware-image';

export type EraseMode = 'pages' | 'mass';

export interface WriteBlock {
  address: number;
  data: Uint8Array;
}

export interface FlashPlan {
  /** First byte written (the image address, aligned down to a word). */
  start: number;
  /** Exclusive end of the image. */
  end: number;
  /** Page numbers to erase, or 'all' for a mass erase. */
  erase: number[] | 'all';
  blocks: WriteBlock[];
  /** Image bytes (not counting alignment padding): the `total` of writing progress. */
  imageBytes: number;
}

export function planFlash(
  dev: Stm32Device,
  image: FlatImage,
  eraseMode: EraseMode = 'pages',
  blockSize = MAX_BLOCK,
): FlashPlan {
  const flashEnd = dev.flashStart + dev.flashSize;
  if (image.address < dev.flashStart || image.address >= flashEnd) {
    throw new FlashError(
      'bad_image',
      `the image address ${hex(image.address)} is outside the flash of ${dev.name} (${hex(dev.flashStart)}..${hex(flashEnd)})`,
    );
  }
  const end = image.address + image.data.length;
  if (end > flashEnd) {
    throw new FlashError(
      'image_too_large',
      `the image needs ${end - dev.flashStart} bytes from flash start but ${dev.name} has ${dev.flashSize}`,
    );
  }
  // Write Memory wants 4-aligned addresses (AN3155 3.6): pad the front with 0xFF, which leaves
  // erased flash as it is.
  const start = image.address - (image.address % 4);
  const lead = image.address - start;
  const data = new Uint8Array(lead + image.data.length).fill(0xff);
  data.set(image.data, lead);

  const all = eraseUnitsOf(dev);
  const covered = unitsCovering(dev, start, end);
  const wholeFlash = covered.length === all.length;
  let erase: number[] | 'all';
  if ((eraseMode === 'mass' || wholeFlash) && dev.massErase) erase = 'all';
  else if (eraseMode === 'mass') erase = all.map((u) => u.index);
  else erase = covered.map((u) => u.index);

  const blocks: WriteBlock[] = [];
  for (let off = 0; off < data.length; off += blockSize) {
    blocks.push({ address: start + off, data: data.subarray(off, off + blockSize) });
  }
  return { start, end, erase, blocks, imageBytes: image.data.length };
}
