/**
 * flashStm32 through the simulator over a real pty (FLASHING.md 4, 7). The simulator itself is
 * validated by stm32flash in stm32-sim.test.ts. Failure paths live in stm32-flash-faults.test.ts.
 */
import { afterEach, describe, it, expect } from 'vitest';
import { flashStm32 } from '../../../../src/main/flasher/stm32/flash-stm32';
import type { Stm32FlashRequest } from '../../../../src/main/flasher/stm32/stm32-flash-request';
import { NO_RESET_LINES_WARNING } from '../../../../src/main/flasher/stm32/entry-sequence';
import type { FlashState } from '../../../../src/shared/flash-state';
import type { SimPartName } from '../../../support/stm32-sim-parts';
import { FAST, hexOf, image, openBench, portIsFree, stateNames, type Bench } from './harness';

const FLASH = 0x08000000;

describe('flashStm32 against the simulator', () => {
  let bench: Bench | null = null;
  afterEach(async () => {
    await bench?.close();
    bench = null;
  });

  const cases: Array<[SimPartName, 'bin' | 'hex']> = [
    ['f103', 'bin'],
    ['f103', 'hex'],
    ['f4', 'bin'],
    ['f4', 'hex'],
  ];

  it.each(cases)('%s: writes and verifies a 20 KB .%s image', async (part, kind) => {
    bench = await openBench({ part });
    // Old firmware where the image goes (so skipping the erase would make writes NACK), and a
    // marker in a page/sector the image does not touch (so erasing too much would show).
    bench.sim.flash.fill(0x00, 0, 20_000);
    const marker = part === 'f103' ? 30 * 1024 : 2 * 16 * 1024;
    bench.sim.flash[marker] = 0x42;
    const data = image(20_000);
    const req: Stm32FlashRequest = {
      path: bench.pair.b,
      image: kind === 'bin' ? { kind: 'bin', data } : { kind: 'hex', text: hexOf(FLASH, data) },
    };
    const result = await flashStm32(req, bench.report, undefined, FAST);

    expect(Buffer.compare(bench.sim.flash.subarray(0, data.length), Buffer.from(data))).toBe(0);
    expect(bench.sim.flash[marker]).toBe(0x42);
    bench.sim.flash[marker] = 0xff;
    expect(bench.sim.flash.subarray(data.length).every((b) => b === 0xff)).toBe(true);
    expect(stateNames(bench.states)).toEqual([
      'connecting',
      'detecting',
      'erasing',
      'writing',
      'verifying',
      'resetting',
      'done',
    ]);
    const writing = bench.states.filter(
      (s): s is Extract<FlashState, { state: 'writing' }> => s.state === 'writing',
    );
    expect(writing).toHaveLength(80); // 0, then one per 256-byte block
    expect(writing.map((s) => s.bytes)).toEqual(
      [...writing.map((s) => s.bytes)].sort((a, b) => a - b),
    );
    expect(writing[0]).toEqual({ state: 'writing', bytes: 0, total: 20_000 });
    expect(writing.at(-1)).toEqual({ state: 'writing', bytes: 20_000, total: 20_000 });

    expect(result.bytesWritten).toBe(20_000);
    expect(result.warnings).toEqual([]);
    expect(result.chip.chip).toBe(
      part === 'f103' ? 'STM32F10xxx Medium-density' : 'STM32F40xxx/41xxx',
    );
    expect(result.chip.flashSize).toBe(part === 'f103' ? '128KB' : '1MB');
    expect(result.chip.details).toMatchObject({
      pid: part === 'f103' ? '0x0410' : '0x0413',
      bootloaderVersion: part === 'f103' ? '2.2' : '3.1',
    });
    const done = bench.states.at(-1);
    expect(done?.state === 'done' && done.chip).toEqual(result.chip);

    expect(bench.sim.count('write')).toBe(79);
    expect(bench.sim.count('read')).toBe(79);
    expect(bench.sim.commands).toContain(
      part === 'f103'
        ? `ERASE pages ${Array.from({ length: 20 }, (_, i) => i).join(',')}`
        : 'EXTENDED_ERASE pages 0,1',
    );
    expect(bench.sim.commands.at(-1)).toBe('GO 0x08000000');
    expect(await portIsFree(bench.pair.b)).toBe(true);
  });

  it('counts every byte it sends as wireBytes', async () => {
    bench = await openBench({ part: 'f103' });
    const result = await flashStm32(
      { path: bench.pair.b, image: { kind: 'bin', data: image(20_000) } },
      bench.report,
      undefined,
      FAST,
    );
    const init = 1;
    const detect = 3 * 2; // Get Version, Get, Get ID
    const erase = 2 + (1 + 20 + 1); // 0x43, N-1, 20 pages, checksum
    const writes = 78 * (2 + 5 + (1 + 256 + 1)) + (2 + 5 + (1 + 32 + 1));
    const reads = 79 * (2 + 5 + 2);
    const go = 2 + 5;
    expect(result.wireBytes).toBe(init + detect + erase + writes + reads + go);
  });

  it('skips read-back and Go when asked, and writes at another address', async () => {
    bench = await openBench({ part: 'f4' });
    const data = image(1000);
    await flashStm32(
      {
        path: bench.pair.b,
        image: { kind: 'bin', data, address: 0x08020000 },
        verify: false,
        go: false,
      },
      bench.report,
      undefined,
      FAST,
    );
    expect(stateNames(bench.states)).toEqual([
      'connecting',
      'detecting',
      'erasing',
      'writing',
      'done',
    ]);
    expect(bench.sim.count('read')).toBe(0);
    expect(bench.sim.count('go')).toBe(0);
    expect(bench.sim.commands).toContain('EXTENDED_ERASE pages 5');
    const at = 0x20000;
    expect(Buffer.compare(bench.sim.flash.subarray(at, at + 1000), Buffer.from(data))).toBe(0);
    expect(bench.sim.flash.subarray(0, at).every((b) => b === 0xff)).toBe(true);
  });

  it('mass-erases when asked (0x43 global and 0x44 FFFF)', async () => {
    for (const part of ['f103', 'f4'] as const) {
      bench = await openBench({ part });
      bench.sim.flash.fill(0x00, 100_000, 100_010); // old firmware far away from the image
      await flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(64) }, eraseMode: 'mass' },
        bench.report,
        undefined,
        FAST,
      );
      expect(bench.sim.commands).toContain(
        part === 'f103' ? 'ERASE global' : 'EXTENDED_ERASE mass',
      );
      expect(bench.sim.flash[100_000]).toBe(0xff);
      await bench.close();
      bench = null;
    }
  });

  it('Go with an explicit address', async () => {
    bench = await openBench({ part: 'f103' });
    await flashStm32(
      { path: bench.pair.b, image: { kind: 'bin', data: image(512) }, go: 0x08000100 },
      bench.report,
      undefined,
      FAST,
    );
    expect(bench.sim.commands.at(-1)).toBe('GO 0x08000100');
  });

  it('continues a session on a bootloader that was already initialised', async () => {
    bench = await openBench({ part: 'f103' });
    const first = image(300);
    await flashStm32(
      { path: bench.pair.b, image: { kind: 'bin', data: first }, go: false },
      bench.report,
      undefined,
      FAST,
    );
    expect(bench.sim.mode).toBe('command');
    bench.states.length = 0;
    const second = image(300);
    await flashStm32(
      { path: bench.pair.b, image: { kind: 'bin', data: second } },
      bench.report,
      undefined,
      FAST,
    );
    // Our 0x7F was read as a command byte; the second 0x7F drew the NACK (FLASHING.md 4.1).
    expect(
      bench.sim.commands.filter((c) => c.startsWith('NACK bad complement 0x7F 0x7F')),
    ).toHaveLength(1);
    expect(Buffer.compare(bench.sim.flash.subarray(0, 300), Buffer.from(second))).toBe(0);
  });

  it('runs an entry sequence; on a pty it warns that there are no reset lines', async () => {
    bench = await openBench({ part: 'f103' });
    const result = await flashStm32(
      {
        path: bench.pair.b,
        image: { kind: 'bin', data: image(256) },
        entrySequence: '-dtr,rts,-rts:dtr',
      },
      bench.report,
      undefined,
      { ...FAST, sleep: async () => {} },
    );
    expect(result.warnings).toEqual([NO_RESET_LINES_WARNING]);
    expect(bench.sim.count('write')).toBe(1);
  });

  it('takes at least the wire time when the simulator is throttled', async () => {
    bench = await openBench({ part: 'f103', throttle: true, baud: 115200 });
    const result = await flashStm32(
      { path: bench.pair.b, baud: 115200, image: { kind: 'bin', data: image(4096) } },
      bench.report,
      undefined,
      FAST,
    );
    // Host bytes plus the 4 KB the device sends back for verification, 11 bits each.
    const floorMs = ((result.wireBytes + 4096) * 11 * 1000) / 115200;
    expect(result.durationMs).toBeGreaterThanOrEqual(floorMs * 0.95);
  });
});
