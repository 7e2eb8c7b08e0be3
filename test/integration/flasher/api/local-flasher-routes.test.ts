/**
 * The flasher REST API end to end through a real hub: multipart and JSON uploads, the job
 * resource, `flash.*` notifications on /api/v2/notify, one owner per port, and every bad input
 * answered with a coded 4xx that starts nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import WebSocket from 'ws';
import type { JobRecord } from '../../../../src/main/flasher/jobs/job-manager';
import type { PortWithOwner } from '../../../../src/main/api/local-flasher-routes';
import type { Notification } from '../../../../src/shared/types';
import { firmwareLike, startSim, type SimRig } from '../../../support/esp32-sim-harness';
import { openPtyPair } from '../../../support/pty-pair';
import { Stm32Sim } from '../../../support/stm32-sim';
import { until } from '../jobs/job-harness';
import { form, startFlasherHub, type FlasherHub } from './flasher-hub';

let t: FlasherHub;
const extra: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await startFlasherHub(
    { extraPorts: extra, concurrency: 4 },
    { limits: { maxUploadBytes: 512 * 1024 } },
  );
});
afterAll(async () => {
  await t.stop();
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function sim(opts: Parameters<typeof startSim>[0] = {}): Promise<SimRig> {
  const rig = await startSim(opts);
  cleanups.push(() => rig.close());
  extra.push(rig.host);
  return rig;
}

async function notifications(): Promise<{ events: Notification[]; close(): void }> {
  const ws = new WebSocket(`${t.ws}/api/v2/notify?access_token=${t.key}`);
  const events: Notification[] = [];
  ws.on('message', (d) => events.push(JSON.parse(d.toString()) as Notification));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { events, close: () => ws.close() };
}

async function finished(id: string, timeoutMs = 20_000): Promise<JobRecord> {
  // Poll through the API like a client would.
  let job: JobRecord;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await t.json<JobRecord>('GET', `/api/v2/local/jobs/${id}`);
    expect(r.status).toBe(200);
    job = r.body;
    if (['done', 'failed', 'cancelled'].includes(job.state.state)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${id} did not finish: ${JSON.stringify(job.state)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('POST /api/v2/local/flash', () => {
  it('multipart: flashes the uploaded images, mirrors every state as flash.* notifications', async () => {
    const rig = await sim({ mac: '24:0a:c4:aa:bb:cc' });
    const notes = await notifications();
    const boot = firmwareLike(8 * 1024);
    const app = firmwareLike(160 * 1024);
    const r = await t.upload<{ job: string }>(
      '/api/v2/local/flash',
      form(
        [
          ['bootloader.bin@0x1000', boot],
          ['app.bin', app],
        ],
        { options: JSON.stringify({ port: rig.host, baud: 921600 }), address: ['', '0x10000'] },
      ),
    );
    expect(r.status, r.text).toBe(200);
    const job = await finished(r.body.job);
    expect(job.state).toMatchObject({
      state: 'done',
      chip: { chip: 'ESP32', mac: '24:0a:c4:aa:bb:cc' },
    });
    expect(job.files).toEqual([
      { name: 'bootloader.bin', size: boot.length, address: 0x1000 },
      { name: 'app.bin', size: app.length, address: 0x10000 },
    ]);
    expect(Buffer.compare(rig.sim.flash.subarray(0x1000, 0x1000 + boot.length), boot)).toBe(0);
    expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + app.length), app)).toBe(0);

    await until(() => notes.events.some((n) => n.name === 'flash.done'), 5000, 'flash.done');
    notes.close();
    const mine = notes.events.filter((n) => (n.data as { job?: string }).job === job.id);
    const states = mine
      .filter((n) => n.name === 'flash.state')
      .map((n) => (n.data as { state: { state: string } }).state.state);
    expect(states).toEqual([
      'queued',
      'detecting',
      'connecting',
      'uploading_stub',
      'writing',
      'verifying',
      'resetting',
      'done',
    ]);
    const progress = mine
      .filter((n) => n.name === 'flash.progress')
      .map((n) => n.data as { bytes: number; total: number; percent: number });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({
      bytes: boot.length + app.length,
      total: boot.length + app.length,
      percent: 100,
    });
    expect(mine.find((n) => n.name === 'flash.done')?.data).toMatchObject({
      job: job.id,
      port: rig.host,
      state: { state: 'done' },
      result: { bytesWritten: boot.length + app.length },
    });

    const list = await t.json<JobRecord[]>('GET', '/api/v2/local/jobs');
    expect(list.body.map((j) => j.id)).toContain(job.id);
    const log = await t.json<string[]>('GET', `/api/v2/local/jobs/${job.id}/log`);
    expect(log.body.some((l) => /Chip: ESP32/.test(l))).toBe(true);
  });

  it('flash.progress is throttled to at most 10 per second per job', async () => {
    // The STM32 client reports every 256-byte block: hundreds of updates a second on a pty.
    const pair = await openPtyPair();
    cleanups.push(() => pair.close());
    const stm = new Stm32Sim({ path: pair.a, throttle: true, baud: 921600 });
    await stm.start();
    cleanups.push(() => stm.stop());
    const notes = await notifications();
    const arrivals: number[] = [];
    const r = await t.json<{ job: string }>('POST', '/api/v2/local/flash', {
      port: pair.b,
      chip: 'stm32',
      baud: 921600,
      verify: false,
      images: [{ name: 'fw.bin', data: Buffer.from(firmwareLike(48 * 1024)).toString('base64') }],
    });
    expect(r.status, r.text).toBe(200);
    const mine = (): number =>
      notes.events.filter(
        (e) => e.name === 'flash.progress' && (e.data as { job: string }).job === r.body.job,
      ).length;
    const timer = setInterval(() => {
      while (arrivals.length < mine()) arrivals.push(Date.now());
    }, 2);
    const job = await finished(r.body.job, 30_000);
    await until(() => mine() > 0 && arrivals.length === mine(), 2000, 'last progress');
    clearInterval(timer);
    notes.close();
    expect(job.state.state).toBe('done');
    const writes = job.result!.bytesWritten / 256;
    expect(writes).toBeGreaterThan(150);
    const duration = job.finished! - job.started!;
    expect(arrivals.length).toBeGreaterThan(3);
    expect(arrivals.length).toBeLessThanOrEqual(Math.ceil(duration / 100) + 2);
    for (const at of arrivals) {
      const inWindow = arrivals.filter((x) => x >= at && x < at + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(11); // 10 + the final 100 % update, always sent
    }
  });

  it('JSON body with base64 images: flashes an STM32 (address in the STM32 window)', async () => {
    const pair = await openPtyPair();
    cleanups.push(() => pair.close());
    const stm = new Stm32Sim({ path: pair.a });
    await stm.start();
    cleanups.push(() => stm.stop());
    const data = firmwareLike(3000);
    const r = await t.json<{ job: string }>('POST', '/api/v2/local/flash', {
      port: pair.b,
      images: [{ name: 'fw.bin', data: Buffer.from(data).toString('base64'), address: 0x08000000 }],
    });
    expect(r.status, r.text).toBe(200);
    const job = await finished(r.body.job);
    expect(job.kind).toBe('stm32');
    expect(job.state.state).toBe('done');
    expect(Buffer.compare(stm.flash.subarray(0, data.length), data)).toBe(0);
  });

  it('one owner per port: 409 port_busy naming the job while it runs; DELETE cancels it', async () => {
    const rig = await sim({ throttle: true, baud: 115200 });
    const body = {
      port: rig.host,
      baud: 115200,
      images: [
        { data: Buffer.from(firmwareLike(128 * 1024)).toString('base64'), address: 0x10000 },
      ],
    };
    const first = await t.json<{ job: string }>('POST', '/api/v2/local/flash', body);
    expect(first.status).toBe(200);
    const second = await t.json<{ error: { code: number; message: string } }>(
      'POST',
      '/api/v2/local/flash',
      body,
    );
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe(4093);
    expect(second.body.error.message).toContain(`flash job ${first.body.job}`);

    const ports = await t.json<PortWithOwner[]>('GET', '/api/v2/local/ports');
    expect(ports.body.find((p) => p.path === rig.host)?.owner).toEqual({
      kind: 'flash',
      id: first.body.job,
    });

    const del = await t.json<JobRecord>('DELETE', `/api/v2/local/jobs/${first.body.job}`);
    expect(del.status).toBe(200);
    expect((await finished(first.body.job)).state).toEqual({ state: 'cancelled' });
    const after = await t.json<PortWithOwner[]>('GET', '/api/v2/local/ports');
    expect(after.body.find((p) => p.path === rig.host)).toMatchObject({ kind: 'pty', owner: null });
  });

  it('refuses bad input with coded errors and starts nothing', async () => {
    const rig = await sim();
    const before = (await t.json<JobRecord[]>('GET', '/api/v2/local/jobs')).body.length;
    const img = firmwareLike(4096);
    const opts = (o: object): string => JSON.stringify({ port: rig.host, ...o });
    const hostileZip = zipSync({
      '../../evil.bin': img,
      'manifest.json': new TextEncoder().encode('{}'),
    });
    const cases: [string, () => Promise<{ status: number; body: unknown }>, number, number][] = [
      [
        'no port',
        () => t.upload('/api/v2/local/flash', form([['a.bin', img]], { options: '{}' })),
        400,
        4002,
      ],
      [
        'unknown port',
        () =>
          t.upload(
            '/api/v2/local/flash',
            form([['a.bin', img]], { options: JSON.stringify({ port: '/dev/ttyNOPE9' }) }),
          ),
        404,
        4044,
      ],
      [
        'bad address field',
        () =>
          t.upload(
            '/api/v2/local/flash',
            form([['a.bin', img]], { options: opts({}), address: 'zz' }),
          ),
        400,
        4002,
      ],
      [
        'unaligned address',
        () => t.upload('/api/v2/local/flash', form([['a.bin@0x1001', img]], { options: opts({}) })),
        400,
        4003,
      ],
      [
        'huge file',
        () =>
          t.upload(
            '/api/v2/local/flash',
            form([['a.bin', new Uint8Array(600 * 1024)]], { options: opts({}) }),
          ),
        413,
        413,
      ],
      [
        'options not JSON',
        () => t.upload('/api/v2/local/flash', form([['a.bin', img]], { options: '{port:' })),
        400,
        4001,
      ],
      [
        'unknown option',
        () =>
          t.upload(
            '/api/v2/local/flash',
            form([['a.bin', img]], { options: opts({ turbo: true }) }),
          ),
        400,
        4002,
      ],
      [
        'baud out of range',
        () =>
          t.upload('/api/v2/local/flash', form([['a.bin', img]], { options: opts({ baud: 5 }) })),
        400,
        4002,
      ],
      [
        'hostile zip',
        () =>
          t.upload('/api/v2/local/flash', form([['fw.zip', hostileZip]], { options: opts({}) })),
        400,
        4003,
      ],
      [
        'no files',
        () => t.upload('/api/v2/local/flash', form([], { options: opts({}) })),
        400,
        4002,
      ],
      [
        'unknown file field',
        () =>
          t.upload(
            '/api/v2/local/flash',
            form([['a.bin', img]], { options: opts({}) }, 'firmware'),
          ),
        400,
        4002,
      ],
      [
        'address count mismatch',
        () =>
          t.upload(
            '/api/v2/local/flash',
            form(
              [
                ['a.bin', img],
                ['b.bin', img],
              ],
              { options: opts({}), address: '0x10000' },
            ),
          ),
        400,
        4002,
      ],
      [
        'JSON: bad base64',
        () =>
          t.json('POST', '/api/v2/local/flash', {
            port: rig.host,
            images: [{ data: '!!notbase64' }],
          }),
        400,
        4002,
      ],
      [
        'JSON: no images',
        () => t.json('POST', '/api/v2/local/flash', { port: rig.host, images: [] }),
        400,
        4002,
      ],
      ['JSON: not JSON', () => t.json('POST', '/api/v2/local/flash', '{"port":'), 400, 4001],
      ['no body', () => t.json('POST', '/api/v2/local/flash'), 400, 400],
      [
        'provision without wifi for improv',
        () =>
          t.upload(
            '/api/v2/local/flash',
            form([['a.bin', img]], { options: opts({ provision: { kind: 'improv' } }) }),
          ),
        400,
        4002,
      ],
      ['unknown job', () => t.json('GET', '/api/v2/local/jobs/jnope'), 404, 4043],
      ['bad job id', () => t.json('GET', '/api/v2/local/jobs/..%2Fetc'), 400, 4002],
      ['cancel unknown job', () => t.json('DELETE', '/api/v2/local/jobs/jnope'), 404, 4043],
    ];
    for (const [what, call, status, code] of cases) {
      const r = await call();
      expect(r.status, what).toBe(status);
      expect(r.body, what).toEqual({ error: { code, message: expect.any(String) } });
    }
    expect((await t.json<JobRecord[]>('GET', '/api/v2/local/jobs')).body).toHaveLength(before);
    expect(t.hub.services().flasher.registry.list()).toEqual([]);
    // The hub is still fine: a good request works.
    const ok = await t.upload<{ job: string }>(
      '/api/v2/local/flash',
      form([['a.bin@0x10000', img]], { options: opts({}) }),
    );
    expect(ok.status, ok.text).toBe(200);
    expect((await finished(ok.body.job)).state.state).toBe('done');
  });

  it('GET ports lists the simulator ptys with their owner', async () => {
    const rig = await sim();
    const r = await t.json<PortWithOwner[]>('GET', '/api/v2/local/ports');
    expect(r.status).toBe(200);
    expect(r.body.find((p) => p.path === rig.host)).toMatchObject({
      path: rig.host,
      kind: 'pty',
      friendlyName: expect.stringContaining('Virtual serial port'),
      owner: null,
    });
  });
});
