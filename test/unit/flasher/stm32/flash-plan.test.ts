import { describe, it, expect } from 'vitest';
import { FlashError } from '../../../../src/shared/flash-state';
import { findDevice, type Stm32Device } from '../../../../src/main/flasher/stm32/device-table';
import { planFlash } from '../../../../src/main/flasher/stm32/flash-plan';

const f103 = findDevice(0x410)!;
const f4 = findDevice(0x413)!;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof FlashError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('planFlash', () => {
  it('erases only the pages the image covers and writes 256-byte blocks', () => {
    const data = new Uint8Array(20000).map((_, i) => i & 0xff);
    const plan = planFlash(f103, { address: 0x08000000, data });
    expect(plan.erase).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(plan.blocks).toHaveLength(79); // as stm32flash (FLASHING.md 4.3)
    expect(plan.blocks[78]?.address).toBe(0x08000000 + 78 * 256);
    expect(plan.blocks[78]?.data.length).toBe(20000 - 78 * 256);
    expect(plan.imageBytes).toBe(20000);
    const joined = new Uint8Array(plan.blocks.reduce((a, b) => a + b.data.length, 0));
    let off = 0;
    for (const b of plan.blocks) {
      joined.set(b.data, off);
      off += b.data.length;
    }
    expect(joined).toEqual(data);
  });

  it('uses F4 sector numbers', () => {
    const plan = planFlash(f4, { address: 0x08010000, data: new Uint8Array(0x20000) });
    // 0x08010000..0x08030000: sector 4 (64 KB at 0x08010000) and sector 5 (128 KB at 0x08020000).
    expect(plan.erase).toEqual([4, 5]);
  });

  it('mass-erases when asked, or when the image fills the whole flash', () => {
    expect(planFlash(f103, { address: 0x08000000, data: new Uint8Array(10) }, 'mass').erase).toBe(
      'all',
    );
    expect(planFlash(f103, { address: 0x08000000, data: new Uint8Array(128 * 1024) }).erase).toBe(
      'all',
    );
    // Reaching the end from the middle erases only the pages it covers, keeping what is below.
    const tail = planFlash(f103, { address: 0x0801fc00, data: new Uint8Array(1024) });
    expect(tail.erase).toEqual([127]);
  });

  it('erases page by page on parts without mass erase', () => {
    const l0: Stm32Device = findDevice(0x417)!;
    expect(l0.massErase).toBe(false);
    const plan = planFlash(l0, { address: 0x08000000, data: new Uint8Array(10) }, 'mass');
    expect(Array.isArray(plan.erase) && plan.erase.length).toBe(512);
  });

  it('aligns an odd start address down to a word, padding with 0xFF', () => {
    const plan = planFlash(f103, { address: 0x08000002, data: Uint8Array.of(7, 8) });
    expect(plan.start).toBe(0x08000000);
    expect(Array.from(plan.blocks[0]!.data)).toEqual([0xff, 0xff, 7, 8]);
    expect(plan.imageBytes).toBe(2);
  });

  it('refuses images that do not fit, at the exact edge', () => {
    expect(planFlash(f103, { address: 0x08000000, data: new Uint8Array(128 * 1024) }).end).toBe(
      0x08020000,
    );
    expect(
      codeOf(() => planFlash(f103, { address: 0x08000000, data: new Uint8Array(128 * 1024 + 1) })),
    ).toBe('image_too_large');
    expect(codeOf(() => planFlash(f103, { address: 0x0801ffff, data: new Uint8Array(2) }))).toBe(
      'image_too_large',
    );
    expect(codeOf(() => planFlash(f103, { address: 0x20000000, data: new Uint8Array(2) }))).toBe(
      'bad_image',
    );
    expect(codeOf(() => planFlash(f103, { address: 0x08020000, data: new Uint8Array(2) }))).toBe(
      'bad_image',
    );
  });
});
