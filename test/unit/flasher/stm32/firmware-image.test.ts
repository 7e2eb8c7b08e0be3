import { describe, it, expect } from 'vitest';
import MemoryMap from 'nrf-intel-hex';
import { FlashError } from '../../../../src/shared/flash-state';
import { MAX_IMAGE_SPAN, flattenImage } from '../../../../src/main/flasher/stm32/firmware-image';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof FlashError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('flattenImage', () => {
  it('places a .bin at the default address unless told otherwise', () => {
    const data = Uint8Array.of(1, 2, 3);
    expect(flattenImage({ kind: 'bin', data }, 0x08000000)).toEqual({ address: 0x08000000, data });
    expect(flattenImage({ kind: 'bin', data, address: 0x08004000 }, 0x08000000).address).toBe(
      0x08004000,
    );
  });

  it('reads Intel HEX with extended linear address records and fills gaps with 0xFF', () => {
    const map = new MemoryMap([
      [0x08000000, Uint8Array.of(1, 2, 3, 4)],
      [0x08000010, Uint8Array.of(9)],
    ]);
    const text = map.asHexString();
    expect(text).toContain(':020000040800F2'); // type 04: upper address 0x0800
    const img = flattenImage({ kind: 'hex', text }, 0);
    expect(img.address).toBe(0x08000000);
    expect(img.data.length).toBe(0x11);
    expect(Array.from(img.data.subarray(0, 6))).toEqual([1, 2, 3, 4, 0xff, 0xff]);
    expect(img.data[0x10]).toBe(9);
  });

  it('rejects broken or empty images with bad_image', () => {
    expect(codeOf(() => flattenImage({ kind: 'bin', data: new Uint8Array(0) }, 0))).toBe(
      'bad_image',
    );
    expect(codeOf(() => flattenImage({ kind: 'hex', text: 'hello' }, 0))).toBe('bad_image');
    expect(codeOf(() => flattenImage({ kind: 'hex', text: ':00000001FF\n' }, 0))).toBe('bad_image');
    // Checksum byte wrong (should be 0xF2).
    const bad = ':020000040800F3\n:0400000001020304F2\n:00000001FF\n';
    expect(codeOf(() => flattenImage({ kind: 'hex', text: bad }, 0))).toBe('bad_image');
  });

  it('refuses HEX data spread so far apart that padding it would waste memory', () => {
    const map = new MemoryMap([
      [0x08000000, Uint8Array.of(1)],
      [0x08000000 + MAX_IMAGE_SPAN, Uint8Array.of(2)],
    ]);
    expect(codeOf(() => flattenImage({ kind: 'hex', text: map.asHexString() }, 0))).toBe(
      'image_too_large',
    );
    const edge = new MemoryMap([
      [0x08000000, Uint8Array.of(1)],
      [0x08000000 + MAX_IMAGE_SPAN - 1, Uint8Array.of(2)],
    ]);
    expect(flattenImage({ kind: 'hex', text: edge.asHexString() }, 0).data.length).toBe(
      MAX_IMAGE_SPAN,
    );
  });
});
