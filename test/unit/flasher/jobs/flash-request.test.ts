import { describe, expect, it } from 'vitest';
import { HubError } from '../../../../src/shared/errors';
import {
  buildFlashRequest,
  checkFlashRequest,
  inferKind,
  parseAddress,
  splitAddressSuffix,
  toStm32Image,
} from '../../../../src/main/flasher/jobs/flash-request';
import { toHubError, toJobError } from '../../../../src/main/flasher/jobs/job-errors';
import { FlashError } from '../../../../src/shared/flash-state';

const bin = (n = 4096): Uint8Array => new Uint8Array(n).fill(0x11);

/** The catalog kind a check rejects with, 'ok' when it resolves. */
async function kindOfAsync(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    return (err as HubError).kind;
  }
  return 'ok';
}

describe('flash requests', () => {
  it('parses addresses and name@address suffixes', () => {
    expect(parseAddress('0x10000')).toBe(0x10000);
    expect(parseAddress('4096')).toBe(4096);
    expect(parseAddress(' 0X1000 ')).toBe(0x1000);
    expect(parseAddress('0x')).toBeUndefined();
    expect(parseAddress('-1')).toBeUndefined();
    expect(parseAddress('0x1ffffffff')).toBeUndefined();
    expect(parseAddress('1e3')).toBeUndefined();
    expect(splitAddressSuffix('app.bin@0x10000')).toEqual({ name: 'app.bin', address: 0x10000 });
    expect(splitAddressSuffix('dir/fw@v2.bin')).toEqual({ name: 'dir/fw@v2.bin' });
    expect(splitAddressSuffix('@0x1000')).toEqual({ name: '@0x1000' });
    expect(splitAddressSuffix('a@b@4096')).toEqual({ name: 'a@b', address: 4096 });
  });

  it('infers ESP or STM32 from the chip, .hex files and the STM32 flash window', () => {
    expect(inferKind(undefined, [{ name: 'a.bin', data: bin() }])).toBe('esp');
    expect(inferKind('auto', [{ name: 'fw.hex', data: bin() }])).toBe('stm32');
    expect(inferKind('auto', [{ name: 'fw.bin', data: bin(), address: 0x08000000 }])).toBe('stm32');
    expect(inferKind('esp32s3', [{ name: 'fw.hex', data: bin() }])).toBe('esp');
    expect(inferKind('stm32', [{ name: 'a.bin', data: bin(), address: 0x10000 }])).toBe('stm32');
  });

  it('maps the shared options onto each flasher', () => {
    const esp = buildFlashRequest(
      { port: '/dev/x', chip: 'esp32', baud: 921600, eraseAll: true, verify: false, reset: 'none' },
      [{ name: 'a.bin', data: bin(), address: 0x1000 }],
    );
    expect(esp).toMatchObject({
      kind: 'esp',
      port: '/dev/x',
      esp: { chip: 'esp32', baud: 921600, eraseAll: true, verify: false, reset: 'none' },
      stm32: {},
    });
    const stm = buildFlashRequest(
      {
        port: '/dev/y',
        chip: 'stm32',
        baud: 57600,
        eraseAll: true,
        reset: 'none',
        stm32: { parity: 'none' },
      },
      [{ name: 'fw.bin', data: bin() }],
    );
    expect(stm).toMatchObject({
      kind: 'stm32',
      stm32: { baud: 57600, eraseMode: 'mass', go: false, parity: 'none' },
      esp: {},
    });
  });

  it('turns one file into an STM32 image and refuses several', () => {
    expect(toStm32Image([{ name: 'fw.bin', data: bin(8), address: 0x08004000 }])).toEqual({
      kind: 'bin',
      data: bin(8),
      address: 0x08004000,
    });
    expect(
      toStm32Image([{ name: 'FW.HEX', data: new TextEncoder().encode(':00000001FF\n') }]),
    ).toEqual({
      kind: 'hex',
      text: ':00000001FF\n',
    });
    expect(() => toStm32Image([])).toThrow(FlashError);
    expect(() =>
      toStm32Image([
        { name: 'a.bin', data: bin() },
        { name: 'b.bin', data: bin() },
      ]),
    ).toThrow(/exactly one file/);
    expect(() => toStm32Image([{ name: 'x.hex', data: Uint8Array.from([0xff, 0xfe]) }])).toThrow(
      /not a text/,
    );
  });

  it('checks requests without a board and answers with catalog codes', async () => {
    const ok = buildFlashRequest({ port: '/dev/x' }, [
      { name: 'a.bin', data: bin(), address: 0x10000 },
    ]);
    expect(await kindOfAsync(() => checkFlashRequest(ok))).toBe('ok');
    expect(await kindOfAsync(() => checkFlashRequest({ ...ok, files: [] }))).toBe(
      'validation_failed',
    );
    expect(
      await kindOfAsync(() =>
        checkFlashRequest({ ...ok, files: [{ name: 'a', data: bin(), address: 0x100 }] }),
      ),
    ).toBe('image_invalid');
    expect(
      await kindOfAsync(() =>
        checkFlashRequest({ ...ok, files: [{ name: 'a', data: bin(), address: -5 }] }),
      ),
    ).toBe('validation_failed');
    expect(await kindOfAsync(() => checkFlashRequest({ ...ok, esp: { baud: 4_000_000 } }))).toBe(
      'validation_failed',
    );
    const files17 = Array.from({ length: 17 }, (_, i) => ({
      name: `f${i}.bin`,
      data: bin(),
      address: i * 0x10000,
    }));
    expect(await kindOfAsync(() => checkFlashRequest({ ...ok, files: files17 }))).toBe(
      'validation_failed',
    );
    const stm = buildFlashRequest({ port: '/dev/x', chip: 'stm32' }, [
      { name: 'fw.hex', data: new TextEncoder().encode('junk') },
    ]);
    expect(await kindOfAsync(() => checkFlashRequest(stm))).toBe('image_invalid');
    const seq = buildFlashRequest(
      { port: '/dev/x', chip: 'stm32', stm32: { entrySequence: 'dtr,7' } },
      [{ name: 'fw.bin', data: bin() }],
    );
    expect(await kindOfAsync(() => checkFlashRequest(seq))).toBe('validation_failed');
  });

  it('maps errors both ways, keeping the hint', () => {
    const h = toHubError(new FlashError('bad_image', 'broken', 'use another file'));
    expect(h.kind).toBe('image_invalid');
    expect(h.message).toBe('broken (use another file)');
    expect(toHubError(new FlashError('wrong_chip', 'x')).status).toBe(409);
    expect(toJobError(new HubError('port_busy', 'busy')).code).toBe('port_busy');
    expect(toJobError(new Error('boom'))).toMatchObject({
      code: 'internal',
      message: 'boom',
      hint: expect.any(String),
    });
  });
});
