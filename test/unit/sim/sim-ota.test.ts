import { describe, expect, it } from 'vitest';
import { RpcFault } from '../../../src/main/sim/rpc-fault';
import { SimOta } from '../../../src/main/sim/sim-ota';
import { identifyImage } from '../../../src/main/sim/sim-image';

const V1 = { fwVersion: '1.0.0', fwId: 'v1', app: 'sim' };

function upload(ota: SimOta, image: Buffer, commitTimeout: number, chunk = 100): (number | null)[] {
  ota.begin(image.length, commitTimeout);
  const reports: (number | null)[] = [];
  for (let off = 0; off < image.length; off += chunk) {
    reports.push(ota.write(off, image.subarray(off, off + chunk)).percent);
  }
  ota.end();
  return reports;
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

  it('reports progress in steps of at least 10 % and always 100 at the end', () => {
    const ota = new SimOta(V1);
    const reports = upload(ota, Buffer.alloc(1000), 0, 30).filter((p) => p !== null);
    expect(reports[reports.length - 1]).toBe(100);
    for (let i = 1; i < reports.length - 1; i++) {
      expect((reports[i] ?? 0) - (reports[i - 1] ?? 0)).toBeGreaterThanOrEqual(10);
    }
    expect(reports.length).toBeGreaterThanOrEqual(9);
  });

  it('refuses out-of-order and oversize writes without changing what was received', () => {
    const ota = new SimOta(V1);
    ota.begin(200, 0);
    ota.write(0, Buffer.alloc(100, 1));
    expect(faultOf(() => ota.write(150, Buffer.alloc(10))).message).toContain(
      'unexpected offset 150, expected 100',
    );
    expect(faultOf(() => ota.write(0, Buffer.alloc(10))).message).toContain('expected 100');
    expect(faultOf(() => ota.write(100, Buffer.alloc(101))).message).toContain(
      'past the announced size',
    );
    ota.write(100, Buffer.alloc(100, 1));
    ota.end();
    expect(ota.boot().booted).toBe('new');
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
