/**
 * flashEsp end to end: esptool-js (through our adapter, transport and loader) against the ESP32
 * simulator over a real socat pty pair, compared byte for byte with what the simulated flash holds.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { flashEsp, type EspFlashRequest } from '../../../../src/main/flasher/esp/flash-esp';
import { FlashError, type FlashState } from '../../../../src/shared/flash-state';
import {
  fdsOpenOn,
  firmwareLike,
  randomImage,
  startSim,
  type SimRig,
} from '../../../support/esp32-sim-harness';

let rig: SimRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const md5 = (d: Uint8Array): string => createHash('md5').update(d).digest('hex');

function recorder(): {
  states: FlashState[];
  report: (s: FlashState) => void;
  names: () => string[];
} {
  const states: FlashState[] = [];
  return {
    states,
    report: (s) => states.push(s),
    // Consecutive duplicates collapsed: the shape of the job.
    names: () => states.map((s) => s.state).filter((n, i, all) => n !== all[i - 1]),
  };
}

function writingStates(states: FlashState[]): Extract<FlashState, { state: 'writing' }>[] {
  return states.filter(
    (s): s is Extract<FlashState, { state: 'writing' }> => s.state === 'writing',
  );
}

function expectMonotonicProgress(states: FlashState[], total: number, files: number): void {
  const writing = writingStates(states);
  expect(writing.length).toBeGreaterThan(files);
  let last = -1;
  for (const w of writing) {
    expect(w.total).toBe(total);
    expect(w.files).toBe(files);
    expect(w.bytes).toBeGreaterThanOrEqual(last);
    expect(w.bytes).toBeLessThanOrEqual(total);
    last = w.bytes;
  }
  expect(last).toBe(total);
}

function request(
  host: string,
  images: EspFlashRequest['images'],
  extra: Partial<EspFlashRequest> = {},
): EspFlashRequest {
  return { path: host, baud: 921600, images, ...extra };
}

describe('flashEsp against the simulator', () => {
  it('writes a 1 MiB random image, verifies it, and reports every step', async () => {
    rig = await startSim({ mac: 'a4:cf:12:01:02:03', flashSize: '8MB' });
    const image = randomImage(1024 * 1024);
    const rec = recorder();
    const log: string[] = [];
    const result = await flashEsp(
      request(
        rig.host,
        { kind: 'files', files: [{ name: 'app.bin', data: image, address: 0x10000 }] },
        {
          log: (l) => log.push(l),
        },
      ),
      rec.report,
    );

    expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + image.length), image)).toBe(0);
    expect(rig.sim.flash.subarray(0, 0x10000).every((b) => b === 0xff)).toBe(true);
    expect(rig.sim.flash.subarray(0x10000 + image.length).every((b) => b === 0xff)).toBe(true);

    expect(rec.names()).toEqual([
      'detecting',
      'connecting',
      'uploading_stub',
      'writing',
      'verifying',
      'resetting',
      'done',
    ]);
    expect(rec.states.find((s) => s.state === 'connecting')).toEqual({
      state: 'connecting',
      attempt: 1,
    });
    expectMonotonicProgress(rec.states, image.length, 1);

    expect(result.chip).toMatchObject({
      chip: 'ESP32',
      mac: 'a4:cf:12:01:02:03',
      flashSize: '8MB',
    });
    expect(result.chip.details?.description).toBe('ESP32-D0WD (revision 1)');
    expect(result.bytesWritten).toBe(image.length);
    expect(result.wireBytes).toBeGreaterThan(image.length); // random data does not compress
    expect(result.images).toEqual([{ address: 0x10000, size: image.length, md5: md5(image) }]);
    const done = rec.states.at(-1);
    expect(done).toMatchObject({ state: 'done', chip: { chip: 'ESP32' } });

    const blocks = rig.sim.commands.filter((c) => c === 'FLASH_DEFL_DATA').length;
    expect(blocks).toBe(Math.ceil(result.wireBytes / 0x4000));
    expect(rig.sim.commands).toContain('SPI_FLASH_MD5');
    expect(rig.sim.commands).toContain('CHANGE_BAUDRATE');
    expect(rig.sim.baud).toBe(921600);
    // Terminal output went to the log callback (and a pty has no reset lines).
    expect(log.some((l) => l.includes('Stub running'))).toBe(true);
    expect(result.warnings.join()).toMatch(/no reset lines/);
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
  });

  it('writes bootloader, partition table and app, progress summed across files', async () => {
    rig = await startSim();
    const bootloader = firmwareLike(0x5a3b); // not a multiple of 4: padded like esptool does
    const partitions = firmwareLike(0xc00);
    const app = firmwareLike(300 * 1024);
    const rec = recorder();
    const result = await flashEsp(
      request(rig.host, {
        kind: 'files',
        files: [
          { name: 'app.bin', data: app, address: 0x10000 },
          { name: 'bootloader.bin', data: bootloader, address: 0x1000 },
          { name: 'partitions.bin', data: partitions, address: 0x8000 },
        ],
      }),
      rec.report,
    );
    for (const [addr, img] of [
      [0x1000, bootloader],
      [0x8000, partitions],
      [0x10000, app],
    ] as const) {
      expect(Buffer.compare(rig.sim.flash.subarray(addr, addr + img.length), img)).toBe(0);
    }
    const padded = 0x5a3c + 0xc00 + 300 * 1024;
    expectMonotonicProgress(rec.states, padded, 3);
    const files = writingStates(rec.states).map((w) => w.file);
    expect(files.filter((f, i) => f !== files[i - 1])).toEqual([0, 1, 2]);
    expect(result.images.map((i) => [i.address, i.size])).toEqual([
      [0x1000, 0x5a3c],
      [0x8000, 0xc00],
      [0x10000, 300 * 1024],
    ]);
    expect(result.wireBytes).toBeLessThan(padded / 2); // firmware-like data compresses
    expect(rig.sim.commands.filter((c) => c === 'FLASH_DEFL_BEGIN')).toHaveLength(3);
    expect(rig.sim.commands.filter((c) => c === 'SPI_FLASH_MD5')).toHaveLength(3);
  });

  it('erases the whole chip first when asked', async () => {
    rig = await startSim();
    rig.sim.flash.fill(0x00, 0x200000, 0x210000);
    const app = firmwareLike(64 * 1024);
    const rec = recorder();
    await flashEsp(
      request(
        rig.host,
        { kind: 'files', files: [{ name: 'app.bin', data: app, address: 0x10000 }] },
        {
          eraseAll: true,
        },
      ),
      rec.report,
    );
    expect(rec.names()).toEqual([
      'detecting',
      'connecting',
      'uploading_stub',
      'erasing',
      'writing',
      'verifying',
      'resetting',
      'done',
    ]);
    expect(rig.sim.commands).toContain('ERASE_FLASH');
    expect(rig.sim.flash.subarray(0x200000, 0x210000).every((b) => b === 0xff)).toBe(true);
    expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + app.length), app)).toBe(0);
  });

  it('writes uncompressed when compress is false, and checks the MD5 even with verify false', async () => {
    rig = await startSim();
    const app = firmwareLike(40 * 1024 + 10);
    const rec = recorder();
    const result = await flashEsp(
      request(
        rig.host,
        { kind: 'files', files: [{ name: 'app.bin', data: app, address: 0x20000 }] },
        {
          compress: false,
          verify: false,
          reset: 'none',
          before: 'no_reset',
        },
      ),
      rec.report,
    );
    expect(Buffer.compare(rig.sim.flash.subarray(0x20000, 0x20000 + app.length), app)).toBe(0);
    expect(rig.sim.commands.filter((c) => c === 'FLASH_DATA')).toHaveLength(3);
    expect(rig.sim.commands).not.toContain('FLASH_DEFL_DATA');
    // The MD5 is part of the write (issue 7 item 7): `verify: false` does not skip it.
    expect(rig.sim.commands.filter((c) => c === 'SPI_FLASH_MD5')).toHaveLength(1);
    expect(result.wireBytes).toBe(3 * 0x4000);
    expect(rec.names()).toContain('verifying');
    expectMonotonicProgress(rec.states, 40 * 1024 + 12, 1);
  });

  it('flashes an ESP32-S3 (chip found through GET_SECURITY_INFO)', async () => {
    rig = await startSim({ chip: 'esp32s3', mac: '7c:df:a1:00:11:22' });
    const app = firmwareLike(50 * 1024);
    const result = await flashEsp(
      request(
        rig.host,
        { kind: 'files', files: [{ name: 'app.bin', data: app, address: 0x10000 }] },
        {
          chip: 'esp32s3',
        },
      ),
      () => {},
    );
    expect(result.chip).toMatchObject({
      chip: 'ESP32-S3',
      mac: '7c:df:a1:00:11:22',
      flashSize: '4MB',
    });
    expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + app.length), app)).toBe(0);
  });

  it('stops on abort with FlashError cancelled, releases the port, and can flash again', async () => {
    rig = await startSim();
    const image = randomImage(512 * 1024);
    const controller = new AbortController();
    const states: FlashState[] = [];
    const job = flashEsp(
      request(rig.host, {
        kind: 'files',
        files: [{ name: 'app.bin', data: image, address: 0x10000 }],
      }),
      (s) => {
        states.push(s);
        if (s.state === 'writing' && s.bytes > 0) controller.abort();
      },
      controller.signal,
    );
    const err = await job.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlashError);
    expect((err as FlashError).code).toBe('cancelled');
    expect(states.some((s) => s.state === 'done' || s.state === 'verifying')).toBe(false);
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);

    // The chip still runs the stub (a pty cannot reset it); a new job must cope with that.
    const small = firmwareLike(8 * 1024);
    await flashEsp(
      request(rig.host, {
        kind: 'files',
        files: [{ name: 'app.bin', data: small, address: 0x10000 }],
      }),
      () => {},
    );
    expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + small.length), small)).toBe(0);
  });

  it('refuses to start when already aborted, without touching the port', async () => {
    rig = await startSim();
    const controller = new AbortController();
    controller.abort();
    await expect(
      flashEsp(
        request(rig.host, {
          kind: 'files',
          files: [{ name: 'a.bin', data: firmwareLike(64), address: 0x10000 }],
        }),
        () => {},
        controller.signal,
      ),
    ).rejects.toMatchObject({ code: 'cancelled' });
    expect(rig.sim.commands).toEqual([]);
  });
});
