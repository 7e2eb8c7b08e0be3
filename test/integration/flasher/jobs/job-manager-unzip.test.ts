/**
 * The flasher's up-front check of a fw.zip runs off the hub's event loop (issue 7 item 9):
 * inflation and part checksums of an archive at the zip caps happen on the thread pool, so the
 * loop keeps serving while a large image is submitted, and a zip bomb is refused with a code.
 */
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { HubError } from '../../../../src/shared/errors';
import { buildFlashRequest } from '../../../../src/main/flasher/jobs/flash-request';
import { FlashJobManager } from '../../../../src/main/flasher/jobs/job-manager';
import { PortRegistry } from '../../../../src/main/flasher/serial/port-registry';
import { DEFAULT_FIRMWARE } from '../../../../src/main/config';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

function manager(): FlashJobManager {
  const m = new FlashJobManager({ registry: new PortRegistry() });
  cleanups.push(() => m.close());
  return m;
}

/** Longest gap between ticks of a 2 ms timer while `work` runs: the event loop's worst stall. */
async function maxLoopLag<T>(work: () => Promise<T>): Promise<{ lagMs: number; result: T }> {
  let last = performance.now();
  let lagMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last - 2);
    last = now;
  }, 2);
  try {
    const result = await work();
    // Work done without ever yielding to the loop ends before any tick: count that stretch too.
    lagMs = Math.max(lagMs, performance.now() - last - 2);
    return { lagMs, result };
  } finally {
    clearInterval(timer);
  }
}

async function rejection(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    return err as HubError;
  }
  throw new Error('expected a HubError');
}

/** Bytes that deflate well but not to nothing (a firmware-ish mix, not all zeros). */
function imageBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) out[i] = (i / 4096 + seed) & 0xff;
  return out;
}

/** A Mongoose OS fw.zip with two parts, each checked by SHA-1, `partBytes` each. */
function bigFwZip(partBytes: number): Uint8Array {
  const app = imageBytes(partBytes, 1);
  const fs = imageBytes(partBytes, 2);
  const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');
  const manifest = {
    name: 'big',
    platform: 'esp32',
    version: '1.0',
    parts: {
      app: { type: 'app', src: 'app.bin', addr: 0x10000, cs_sha1: sha1(app) },
      fs: { type: 'fs', src: 'fs.img', addr: 0x10000 + partBytes, cs_sha1: sha1(fs) },
    },
  };
  return zipSync({
    'big/manifest.json': new TextEncoder().encode(JSON.stringify(manifest)),
    'big/app.bin': app,
    'big/fs.img': fs,
  });
}

/** Rewrites every declared uncompressed size of a zip (local headers and directory) to `size`. */
function lieAboutSizes(zip: Uint8Array, size: number): Uint8Array {
  const out = Buffer.from(zip);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = out.readUInt32LE(i);
    if (sig === 0x04034b50) out.writeUInt32LE(size, i + 22);
    else if (sig === 0x02014b50) out.writeUInt32LE(size, i + 24);
  }
  return out;
}

describe('FlashJobManager.submit checks archives off the event loop', () => {
  // Just under the caps: two parts of 31 MB (entry cap 32 MB, archive cap 64 MB).
  const partBytes = 31 * 1024 * 1024;
  expect(2 * partBytes).toBeLessThan(DEFAULT_FIRMWARE.maxZipTotalBytes);

  it('a large but allowed fw.zip is checked with the loop stalling < 50 ms', async () => {
    const m = manager();
    const data = bigFwZip(partBytes);
    const request = buildFlashRequest({ port: '/dev/fleetbench-no-such-port' }, [
      { name: 'fw.zip', data },
    ]);
    // The images pass; the missing port is what refuses it (the port is checked after them).
    const { lagMs, result } = await maxLoopLag(() => rejection(m.submit({ request })));
    expect(result.kind).toBe('port_not_found');
    expect(lagMs).toBeLessThan(50);
  }, 60_000);

  it('a damaged part (SHA-1 mismatch) is still found by the async check', async () => {
    const m = manager();
    const manifest = {
      platform: 'esp32',
      parts: { app: { src: 'app.bin', addr: 0x10000, cs_sha1: '0'.repeat(40) } },
    };
    const bad = zipSync({
      'manifest.json': new TextEncoder().encode(JSON.stringify(manifest)),
      'app.bin': imageBytes(8192, 3),
    });
    const err = await rejection(
      m.submit({
        request: buildFlashRequest({ port: '/dev/fleetbench-no-such-port' }, [
          { name: 'fw.zip', data: bad },
        ]),
      }),
    );
    expect(err.kind).toBe('image_invalid');
    expect(err.message).toMatch(/SHA-1/);
  });

  it('a zip bomb (entries lying about their size) is refused with a code, loop unblocked', async () => {
    const m = manager();
    const manifest = { platform: 'esp32', parts: { app: { src: 'app.bin', addr: 0x10000 } } };
    // 200 MB of zeros deflates to ~200 KB and claims to be 1 KB.
    const bomb = lieAboutSizes(
      zipSync(
        {
          'manifest.json': new TextEncoder().encode(JSON.stringify(manifest)),
          'app.bin': new Uint8Array(200 * 1024 * 1024),
        },
        { level: 9 },
      ),
      1024,
    );
    const request = buildFlashRequest({ port: '/dev/fleetbench-no-such-port' }, [
      { name: 'fw.zip', data: bomb },
    ]);
    const { lagMs, result } = await maxLoopLag(() => rejection(m.submit({ request })));
    expect(result.kind).toBe('image_invalid');
    expect(result.message).toMatch(/fw\.zip/);
    expect(lagMs).toBeLessThan(50);
    expect(m.list()).toEqual([]);
  }, 60_000);
});
