import { describe, expect, it } from 'vitest';
import { RpcFault } from '../../../src/main/sim/rpc-fault';
import { SimOta } from '../../../src/main/sim/sim-ota';
import { identifyImage } from '../../../src/main/sim/sim-image';

const V1 = { fwVersion: '1.0.0', fwId: 'v1', app: 'sim' };

function upload(ota: SimOta, image: Buffer, commitTimeout: number, chunk = 100): void {
  ota.begin(image.length, commitTimeout);
  for (let off = 0; off < image.length; off += chunk) {
    ota.countWrite();
    ota.write(off, image.subarray(off, off + chunk));
  }
  ota.end();
}

function faultOf(fn: () => unknown): RpcFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof RpcFault) return e;
    throw e;
  }
  throw new Error('expected a fault');
}

describe('SimOta', () => {
  it('boots a finished image uncommitted, then commit keeps it across reboots', () => {
    const ota = new SimOta(V1);
    const image = Buffer.alloc(1000, 1);
    upload(ota, image, 30);
    expect(ota.active).toEqual(V1); // still the old image until the reboot
    expect(ota.boot()).toEqual({ booted: 'new', commitTimeoutMs: 30_000 });
    expect(ota.active.fwId).toBe(identifyImage(image).fwId);
    expect(ota.active.app).toBe('sim');
    expect(ota.bootState()).toEqual({
      active_slot: 1,
      is_committed: false,
      revert_slot: 0,
      commit_timeout: 30,
    });
    ota.commit();
    expect(ota.bootState()).toMatchObject({
      active_slot: 1,
      is_committed: true,
      commit_timeout: 0,
    });
    expect(ota.boot().booted).toBe('same');
    expect(ota.active.fwId).toBe(identifyImage(image).fwId);
  });

  it('any reboot before the commit (timeout, revert, crash) boots the previous slot', () => {
    const ota = new SimOta(V1);
    upload(ota, Buffer.alloc(300, 2), 5);
    ota.boot();
    ota.checkRevert(); // allowed while uncommitted
    expect(ota.boot()).toEqual({ booted: 'reverted', commitTimeoutMs: null });
    expect(ota.active).toEqual(V1);
    expect(ota.bootState()).toMatchObject({ active_slot: 0, is_committed: true });
    expect(faultOf(() => ota.checkRevert()).message).toContain('committed');
  });

  it('commit_timeout 0 commits the new image at boot (Mongoose OS)', () => {
    const ota = new SimOta(V1);
    upload(ota, Buffer.alloc(10, 3), 0, 10);
    expect(ota.boot()).toEqual({ booted: 'new', commitTimeoutMs: null });
    expect(ota.isCommitted).toBe(true);
  });

  it('counts the writes of the open upload, from 0 at every Begin', () => {
    const ota = new SimOta(V1);
    expect(ota.writes).toBe(0);
    ota.countWrite(); // no upload: nothing to count
    ota.begin(10, 0);
    ota.countWrite();
    ota.countWrite();
    expect(ota.writes).toBe(2);
    ota.abortUpload();
    ota.begin(10, 0);
    expect(ota.writes).toBe(0);
  });

  it('honours offsets: a chunk sent again overwrites, a gap or oversize write is refused', () => {
    const ota = new SimOta(V1);
    const image = Buffer.alloc(200);
    for (let i = 0; i < 200; i++) image[i] = i;
    ota.begin(200, 0);
    ota.write(0, Buffer.alloc(100, 0xff)); // garbage first ...
    ota.write(0, image.subarray(0, 100)); // ... then the retry at the same offset replaces it
    expect(faultOf(() => ota.write(150, Buffer.alloc(10))).message).toBe(
      'unexpected offset 150, expected 100',
    );
    expect(faultOf(() => ota.write(100, Buffer.alloc(101))).message).toContain(
      'past the announced size (201 > 200)',
    );
    ota.write(50, image.subarray(50, 120)); // overlapping rewrite that also extends
    ota.write(120, image.subarray(120, 200));
    ota.end();
    expect(ota.boot().booted).toBe('new');
    expect(ota.active.fwId).toBe(identifyImage(image).fwId); // exactly the bytes sent
  });

  it('a rollback fault: the finished image fails to boot and the old one keeps running', () => {
    const ota = new SimOta(V1);
    ota.begin(10, 30);
    ota.write(0, Buffer.alloc(10, 4));
    ota.end(true);
    expect(ota.boot()).toEqual({ booted: 'reverted', commitTimeoutMs: null });
    expect(ota.active).toEqual(V1);
    expect(ota.bootState()).toEqual({
      active_slot: 0,
      is_committed: true,
      revert_slot: 1,
      commit_timeout: 0,
    });
    expect(ota.boot().booted).toBe('same');
  });

  it('refuses Begin while busy, Write/End without Begin, an incomplete End and an oversize image', () => {
    const ota = new SimOta(V1, 1000);
    expect(faultOf(() => ota.write(0, Buffer.alloc(1))).message).toContain('OTA.Begin');
    expect(faultOf(() => ota.end()).message).toContain('OTA.Begin');
    expect(faultOf(() => ota.begin(1001, 0)).message).toContain('does not fit');
    ota.begin(100, 0);
    expect(faultOf(() => ota.begin(100, 0)).message).toBe('OTA already in progress');
    ota.write(0, Buffer.alloc(50));
    expect(faultOf(() => ota.end()).message).toBe('incomplete image: got 50 of 100 bytes');
    expect(ota.uploading).toBe(false);
    expect(ota.boot().booted).toBe('same'); // nothing half-written is ever booted
    expect(ota.active).toEqual(V1);
  });

  it('an aborted upload can start over; a reboot also drops it', () => {
    const ota = new SimOta(V1);
    ota.begin(100, 0);
    ota.abortUpload();
    ota.begin(100, 0);
    ota.write(0, Buffer.alloc(10));
    expect(ota.boot().booted).toBe('same');
    expect(ota.uploading).toBe(false);
  });
});
