/**
 * flashEsp with the inputs people actually bring (ESP Web Tools manifests, Mongoose OS fw.zip) and
 * the inputs that must be refused (hostile archives, wrong chip, too big, bad options, bad ports).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { zipSync } from 'fflate';
import { SerialPort } from 'serialport';
import { flashEsp, type EspFlashRequest } from '../../../../src/main/flasher/esp/flash-esp';
import { FlashError, type FlashState } from '../../../../src/shared/flash-state';
import { HubError } from '../../../../src/shared/errors';
import { fdsOpenOn, firmwareLike, startSim, type SimRig } from '../../../support/esp32-sim-harness';

let rig: SimRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function flashError(req: EspFlashRequest, states: FlashState[] = []): Promise<FlashError> {
  const err = await flashEsp(req, (s) => states.push(s)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FlashError);
  return err as FlashError;
}

function expectRegion(sim: SimRig['sim'], address: number, data: Uint8Array): void {
  expect(Buffer.compare(sim.flash.subarray(address, address + data.length), data)).toBe(0);
}

describe('flashEsp inputs', () => {
  it('flashes the ESP32 build of an ESP Web Tools manifest', async () => {
    rig = await startSim();
    const boot = firmwareLike(0x3000);
    const app = firmwareLike(0x9000);
    const s3 = firmwareLike(0x1000);
    const manifest = {
      name: 'Demo',
      version: '2.0',
      builds: [
        { chipFamily: 'ESP32-S3', parts: [{ path: 's3.bin', offset: 0 }] },
        {
          chipFamily: 'ESP32',
          parts: [
            { path: 'bootloader.bin', offset: 0x1000 },
            { path: 'firmware/app.bin', offset: 0x10000 },
          ],
        },
      ],
    };
    const result = await flashEsp(
      {
        path: rig.host,
        baud: 921600,
        images: {
          kind: 'files',
          files: [
            { name: 'manifest.json', data: enc(JSON.stringify(manifest)) },
            { name: 'bootloader.bin', data: boot },
            { name: 'app.bin', data: app },
            { name: 's3.bin', data: s3 },
          ],
        },
      },
      () => {},
    );
    expectRegion(rig.sim, 0x1000, boot);
    expectRegion(rig.sim, 0x10000, app);
    expect(rig.sim.flash.subarray(0, 0x1000).every((b) => b === 0xff)).toBe(true);
    expect(result.images.map((i) => i.address)).toEqual([0x1000, 0x10000]);
    expect(result.warnings.join()).toMatch(/s3\.bin is not used/);
  });

  it('flashes a Mongoose OS fw.zip', async () => {
    rig = await startSim();
    const boot = firmwareLike(0x2000);
    const app = firmwareLike(0x12000);
    const zip = zipSync({
      'demo-1.0/manifest.json': enc(
        JSON.stringify({
          name: 'demo',
          platform: 'esp32',
          version: '1.0',
          build_id: 'x',
          parts: {
            boot: { src: 'bootloader.bin', addr: 0x1000 },
            app: { src: 'demo.bin', addr: 0x10000 },
            fs: { src: 'fs.img' },
          },
        }),
      ),
      'demo-1.0/bootloader.bin': boot,
      'demo-1.0/demo.bin': app,
      'demo-1.0/fs.img': new Uint8Array(64),
    });
    const result = await flashEsp(
      {
        path: rig.host,
        baud: 921600,
        images: { kind: 'files', files: [{ name: 'fw.zip', data: zip }] },
      },
      () => {},
    );
    expectRegion(rig.sim, 0x1000, boot);
    expectRegion(rig.sim, 0x10000, app);
    expect(result.warnings.join()).toMatch(/fs has no addr/);
  });

  it('refuses a hostile zip before opening the port', async () => {
    rig = await startSim();
    const zip = zipSync({
      'manifest.json': enc(
        JSON.stringify({ platform: 'esp32', parts: { app: { src: 'a.bin', addr: 0x10000 } } }),
      ),
      'a.bin': firmwareLike(4096),
      '../../home/user/.bashrc': enc('echo pwned'),
    });
    const states: FlashState[] = [];
    const err = await flashError(
      { path: rig.host, images: { kind: 'files', files: [{ name: 'fw.zip', data: zip }] } },
      states,
    );
    expect(err.code).toBe('bad_image');
    expect(err.message).toMatch(/unsafe entry name/);
    expect(states).toEqual([]);
    expect(rig.sim.commands).toEqual([]);
  });

  it('refuses a firmware for another chip after detecting the board', async () => {
    rig = await startSim();
    const zip = zipSync({
      'manifest.json': enc(
        JSON.stringify({ platform: 'esp32c3', parts: { app: { src: 'a.bin', addr: 0x10000 } } }),
      ),
      'a.bin': firmwareLike(4096),
    });
    const err = await flashError({
      path: rig.host,
      images: { kind: 'files', files: [{ name: 'fw.zip', data: zip }] },
    });
    expect(err.code).toBe('wrong_chip');
    expect(err.message).toMatch(/ESP32-C3.*ESP32/);
    expect(err.hint).toMatch(/Detected: ESP32/);
    expect(rig.sim.commands).not.toContain('FLASH_DEFL_BEGIN');
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
  });

  it('refuses when the job names another chip than the board', async () => {
    rig = await startSim();
    const err = await flashError({
      path: rig.host,
      chip: 'esp32s3',
      images: {
        kind: 'files',
        files: [{ name: 'a.bin', data: firmwareLike(4096), address: 0x10000 }],
      },
    });
    expect(err.code).toBe('wrong_chip');
    expect(rig.sim.commands).not.toContain('FLASH_DEFL_BEGIN');
  });

  it('refuses an image larger than the detected flash', async () => {
    rig = await startSim({ flashSize: '2MB' });
    const err = await flashError({
      path: rig.host,
      images: {
        kind: 'files',
        files: [{ name: 'big.bin', data: firmwareLike(0x1f8000), address: 0x10000 }],
      },
    });
    expect(err.code).toBe('image_too_large');
    expect(err.message).toMatch(/2MB/);
    expect(err.hint).toBeTruthy();
    expect(rig.sim.commands).not.toContain('FLASH_DEFL_BEGIN');
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
  });

  it('validates options with a coded error naming the field', async () => {
    await expect(
      flashEsp(
        { path: '/dev/null', baud: 2_000_000, images: { kind: 'files', files: [] } },
        () => {},
      ),
    ).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof HubError && e.kind === 'validation_failed' && /baud/.test(e.message),
    );
  });

  it('reports a missing port as port_not_found', async () => {
    const err = await flashError({
      path: '/tmp/fleetbench-no-such-port',
      images: {
        kind: 'files',
        files: [{ name: 'a.bin', data: firmwareLike(64), address: 0x10000 }],
      },
    });
    expect(err.code).toBe('port_not_found');
    expect(err.hint).toMatch(/plug the board in again/);
  });

  it('reports a port held by another program as port_busy and leaves it alone', async () => {
    rig = await startSim();
    const other = new SerialPort({ path: rig.host, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => other.open((e) => (e ? reject(e) : resolve())));
    try {
      const err = await flashError({
        path: rig.host,
        images: {
          kind: 'files',
          files: [{ name: 'a.bin', data: firmwareLike(64), address: 0x10000 }],
        },
      });
      expect(err.code).toBe('port_busy');
      expect(other.isOpen).toBe(true);
      expect(fdsOpenOn(rig.hostDevice)).toBe(1); // only the other program's handle
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});
