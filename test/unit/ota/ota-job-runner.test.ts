/**
 * The job runner's transfer against a scripted device (its `call` is injected): sequential
 * 2048-byte writes with offsets, one file read per chunk through one reused buffer (the image is
 * never loaded whole), Begin retried after OTA.End when an Arduino update was left open.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Json, JsonObject } from '../../../src/shared/types';
import type { OtaJob } from '../../../src/shared/ota';
import { HubError } from '../../../src/shared/errors';
import { runOtaJob, type RunnerContext } from '../../../src/main/ota/ota-job-runner';
import { OtaImageReader, OTA_READ_BLOCK_BYTES } from '../../../src/main/ota/ota-image-reader';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function file(size: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-ota-unit-'));
  dirs.push(dir);
  const path = join(dir, 'img.bin');
  writeFileSync(path, Buffer.alloc(size, 7));
  return path;
}

function harness(path: string, reply: (method: string, params?: Json) => Json) {
  const calls: { method: string; params?: Json }[] = [];
  const job: OtaJob = {
    id: 'j',
    device: 'd',
    firmware: 'f',
    state: 'queued',
    bytes: 0,
    total: 0,
    from_fw: 'old',
    to_fw: '',
    created: 0,
    ended: null,
    family: 'unknown',
  };
  const states: string[] = [];
  let reader: OtaImageReader | undefined;
  const abort = new AbortController();
  const ctx: RunnerContext = {
    job,
    path,
    commit: false,
    commitTimeoutS: 60,
    expectedFwId: () => undefined,
    rebootWindowMs: 1000,
    signal: abort.signal,
    async call(method, params) {
      calls.push({ method, ...(params !== undefined && { params }) });
      return reply(method, params);
    },
    armComeBack: () => ({
      info: Promise.resolve({ fw_id: 'new' } as JsonObject),
      cancel: () => undefined,
    }),
    update(patch) {
      Object.assign(job, patch);
      if (patch.state) states.push(patch.state);
    },
    progress(bytes) {
      job.bytes = bytes;
    },
    installed: () => undefined,
    onReader: (r) => {
      reader = r;
    },
  };
  return { ctx, calls, job, states, reader: () => reader, abort };
}

describe('OtaImageReader', () => {
  it('slices chunks from block reads, in order or not, with the exact bytes of the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-ota-unit-'));
    dirs.push(dir);
    const path = join(dir, 'rand.bin');
    const bytes = Buffer.alloc(200 * 1024 + 13);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >> 8)) & 0xff;
    writeFileSync(path, bytes);
    const r = await OtaImageReader.open(path, 2048, 64 * 1024);
    const parts: Buffer[] = [];
    for (let off = 0; off < bytes.length;) {
      const c = await r.chunkAt(off);
      parts.push(Buffer.from(c.data, 'base64'));
      off += c.length;
    }
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    expect(r.reads).toBe(4);
    // Out of order (a resumed or retried write) still gives the right bytes.
    const back = await r.chunkAt(2048 * 3);
    expect(Buffer.from(back.data, 'base64').equals(bytes.subarray(6144, 8192))).toBe(true);
    const tail = await r.chunkAt(bytes.length - 13);
    expect(tail.length).toBe(13);
    await r.close();
  });

  it('chunkNow: the chunk at once while its block is in memory, else null (no read)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-ota-unit-'));
    dirs.push(dir);
    const path = join(dir, 'rand.bin');
    const bytes = Buffer.alloc(100 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff;
    writeFileSync(path, bytes);
    const r = await OtaImageReader.open(path, 2048, 32 * 1024);
    expect(r.chunkNow(0)).toBeNull(); // nothing read yet
    await r.chunkAt(0);
    const now = r.chunkNow(4096);
    expect(now?.length).toBe(2048);
    expect(Buffer.from(now?.data ?? '', 'base64').equals(bytes.subarray(4096, 6144))).toBe(true);
    expect(r.chunkNow(32 * 1024)).toBeNull(); // the next block: chunkAt reads it
    expect(r.reads).toBeLessThanOrEqual(2); // the first block and its prefetch, nothing more
    await r.close();
  });
});

describe('runOtaJob transfer', () => {
  it('reads a 1 MB image chunk by chunk and writes sequential offsets of at most 2048 bytes', async () => {
    const size = 1024 * 1024 + 100;
    const h = harness(file(size), (m) => {
      if (m === 'OTA.Write') return { queued: 2048 };
      if (m === 'OTA.GetBootState') throw new HubError('device_error', 'nf', { code: -32601 });
      return true;
    });
    await runOtaJob(h.ctx);
    expect(h.states).toEqual(['sending', 'rebooting', 'verifying', 'done']);
    expect(h.job.family).toBe('arduino');
    const writes = h.calls.filter((c) => c.method === 'OTA.Write');
    expect(writes.length).toBe(Math.ceil(size / 2048));
    let expected = 0;
    for (const w of writes) {
      const p = w.params as { offset: number; data: string };
      expect(p.offset).toBe(expected);
      const n = Buffer.from(p.data, 'base64').length;
      expect(n).toBeLessThanOrEqual(2048);
      expected += n;
    }
    expect(expected).toBe(size);
    // One read per 32 KB block (not per chunk), through two reused buffers: the image is never
    // held whole and the disk is not asked 512 times.
    expect(h.reader()?.reads).toBe(Math.ceil(size / OTA_READ_BLOCK_BYTES));
    expect(h.calls[0]).toEqual({ method: 'OTA.Begin', params: { size, commit_timeout: 60 } });
  });

  it('an update left open ("OTA already in progress"): OTA.End, then Begin again', async () => {
    let refused = false;
    const h = harness(file(3000), (m) => {
      if (m === 'OTA.Begin' && !refused) {
        refused = true;
        throw new HubError('device_error', 'device error 500: OTA already in progress');
      }
      if (m === 'OTA.GetBootState') return { is_committed: true, active_slot: 1 };
      return true;
    });
    await runOtaJob(h.ctx);
    expect(h.calls.slice(0, 3).map((c) => c.method)).toEqual(['OTA.Begin', 'OTA.End', 'OTA.Begin']);
    expect(h.job).toMatchObject({ state: 'done', family: 'mos', to_fw: 'new' });
  });

  it('cancelled mid-transfer: stops after the write in flight and sends OTA.End (Arduino)', async () => {
    let n = 0;
    const h = harness(file(20_000), (m) => {
      if (m === 'OTA.Write' && ++n === 3) h.abort.abort();
      return m === 'OTA.Write' ? { queued: 2048 } : true;
    });
    await runOtaJob(h.ctx);
    expect(h.job.state).toBe('cancelled');
    expect(h.job.bytes).toBe(3 * 2048);
    expect(h.calls.at(-1)?.method).toBe('OTA.End');
  });

  it('rebooting and OTA.End come right after the last reply; the file closes meanwhile', async () => {
    // Nothing stands between the last write's reply and OTA.End: the file's close (a thread-pool
    // round trip) runs while OTA.End travels, and is done before the job goes on.
    const events: string[] = [];
    const h = harness(file(3 * 2048), (method) => {
      events.push(method);
      return method === 'OTA.Write' ? { queued: 2048 } : true;
    });
    h.ctx.onReader = (r) => {
      const close = r.close.bind(r);
      r.close = async () => {
        events.push('close');
        await close();
        events.push('closed');
      };
    };
    const update = h.ctx.update;
    h.ctx.update = (patch) => {
      if (patch.state) events.push(patch.state);
      update(patch);
    };
    await runOtaJob(h.ctx);
    expect(events.slice(events.indexOf('rebooting'))).toEqual([
      'rebooting',
      'close',
      'OTA.End',
      'closed',
      'verifying',
      'done',
    ]);
  });
});
