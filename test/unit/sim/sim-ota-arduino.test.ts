import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RpcFault } from '../../../src/main/sim/rpc-fault';
import { ArduinoOta, MDASH_LIBRARY_VERSION } from '../../../src/main/sim/sim-ota-arduino';
import { espAppImage } from '../../../src/main/sim/sim-firmware-files';
import { FW_ID_HEX_CHARS } from '../../../src/main/sim/sim-image';

const V1 = { fwVersion: MDASH_LIBRARY_VERSION, fwId: '20261205-120000', app: 'blink' };

function faultOf(fn: () => unknown): RpcFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof RpcFault) return e;
    throw e;
  }
  throw new Error('expected a fault');
}

function send(ota: ArduinoOta, image: Buffer, chunk = 2048): number[] {
  ota.begin(image.length);
  const percents: number[] = [];
  for (let off = 0; off < image.length; off += chunk) {
    ota.countWrite();
    percents.push(ota.write(image.subarray(off, off + chunk)).percent);
  }
  return percents;
}

describe('ArduinoOta (the mDash library updater)', () => {
  it('appends, reports percent on every write, boots the new build committed', () => {
    const ota = new ArduinoOta(V1);
    const image = espAppImage({ date: 'Dec  6 2026', time: '10:00:00', size: 10_000 });
    const percents = send(ota, image);
    expect(percents).toEqual([20, 40, 61, 81, 100]);
    expect(ota.writes).toBe(5);
    const next = ota.end();
    expect(next).toEqual({
      fwVersion: MDASH_LIBRARY_VERSION, // the library's, whatever the app
      fwId: '20261206-100000',
      app: 'sim-app',
      appVersion: '1.0.0',
    });
    expect(ota.active).toEqual(V1); // until the reboot
    expect(ota.boot()).toEqual({ booted: 'new', commitTimeoutMs: null });
    expect(ota.active.fwId).toBe('20261206-100000');
    expect(ota.isCommitted).toBe(true);
    expect(ota.boot().booted).toBe('same');
  });

  it('a non-ESP image gets the sha256 prefix of its bytes as fw_id', () => {
    const ota = new ArduinoOta(V1);
    const image = Buffer.alloc(5000, 7);
    send(ota, image, 999);
    ota.end();
    ota.boot();
    const sha = createHash('sha256').update(image).digest('hex').slice(0, FW_ID_HEX_CHARS);
    expect(ota.active).toEqual({ fwVersion: MDASH_LIBRARY_VERSION, fwId: sha, app: 'blink' });
  });

  it('refuses a second Begin until End or a reboot, also after a lost session', () => {
    const ota = new ArduinoOta(V1);
    ota.begin(100);
    expect(faultOf(() => ota.begin(100))).toMatchObject({
      code: 500,
      message: 'OTA already in progress',
    });
    ota.onDisconnect(); // the library keeps the update open
    expect(faultOf(() => ota.begin(100)).message).toBe('OTA already in progress');
    // End of the interrupted transfer fails validation, and closes the update.
    expect(faultOf(() => ota.end())).toMatchObject({ code: 500, message: 'esp_ota_end: 5379' });
    ota.begin(100);
    ota.boot(); // a reboot closes it too
    expect(ota.uploading).toBe(false);
    ota.begin(100);
  });

  it('an incomplete or padded transfer fails validation at End and is never booted', () => {
    for (const sent of [50, 150]) {
      const ota = new ArduinoOta(V1);
      ota.begin(100);
      ota.write(Buffer.alloc(sent));
      expect(faultOf(() => ota.end()).message).toBe('esp_ota_end: 5379');
      expect(ota.boot().booted).toBe('same');
      expect(ota.active).toEqual(V1);
    }
  });

  it('Write before Begin, End with nothing begun, writes past the partition', () => {
    const ota = new ArduinoOta(V1, 1000);
    expect(faultOf(() => ota.write(Buffer.alloc(1)))).toMatchObject({
      code: 500,
      message: 'call OTA.Begin',
    });
    expect(faultOf(() => ota.end()).message).toBe('esp_ota_end: 261');
    ota.begin(2000); // the library does not check the size at Begin
    ota.write(Buffer.alloc(1000));
    expect(faultOf(() => ota.write(Buffer.alloc(1))).message).toBe('esp_ota_write: 260');
  });

  it('a rollback fault: the validated image fails to boot, the old build keeps running', () => {
    const ota = new ArduinoOta(V1);
    send(ota, espAppImage({ time: '11:11:11' }));
    ota.end(true);
    expect(ota.boot()).toEqual({ booted: 'reverted', commitTimeoutMs: null });
    expect(ota.active).toEqual(V1);
  });

  it('holds only the head of the image, not the image', () => {
    const ota = new ArduinoOta(V1);
    const image = Buffer.alloc(1_000_000, 1);
    const before = process.memoryUsage().arrayBuffers;
    ota.begin(image.length);
    for (let off = 0; off < image.length; off += 2048) ota.write(image.subarray(off, off + 2048));
    // Nothing near the 1 MB image was allocated for it (slack for the test runner itself).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(256 * 1024);
    ota.end();
  });
});
