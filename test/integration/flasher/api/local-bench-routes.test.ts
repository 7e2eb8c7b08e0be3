/**
 * Bench mode through the REST API of a real hub: three simulated ESP32 boards at once, one of
 * them faulty, a retry of the failed row, the CSV export and `flash.bench.*` notifications; then
 * the full bench flow for one board: flash, provision (Mongoose OS over the same serial line),
 * and wait until the new device connects to the hub.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { BenchSnapshot } from '../../../../src/main/flasher/bench/bench-run';
import type { JobRecord } from '../../../../src/main/flasher/jobs/job-manager';
import { SimDevice } from '../../../../src/main/sim/sim-device';
import type { Notification } from '../../../../src/shared/types';
import { firmwareLike, startSim, type SimRig } from '../../../support/esp32-sim-harness';
import { MosUartPeer } from '../../../support/mos-uart-peer';
import { until } from '../jobs/job-harness';
import { form, startFlasherHub, type FlasherHub } from './flasher-hub';

let t: FlasherHub;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  t = await startFlasherHub({ concurrency: 3 });
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
  return rig;
}

async function benchDone(timeoutMs = 30_000): Promise<BenchSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await t.json<BenchSnapshot>('GET', '/api/v2/local/bench');
    expect(r.status).toBe(200);
    if (!r.body.running) return r.body;
    if (Date.now() > deadline) throw new Error(`bench still running: ${r.text}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('bench mode', () => {
  it('flashes three boards at once, records rows, retries the faulty one, exports CSV', async () => {
    for (const [method, path] of [
      ['GET', '/api/v2/local/bench'],
      ['GET', '/api/v2/local/bench.csv'],
      ['POST', '/api/v2/local/bench/retry'],
      ['DELETE', '/api/v2/local/bench'],
    ] as const) {
      const r = await t.json(method, path);
      expect(r, `${method} ${path} before any bench`).toMatchObject({
        status: 404,
        body: { error: { code: 404 } },
      });
    }
    const good1 = await sim({ mac: '24:0a:c4:00:00:01' });
    const good2 = await sim({ mac: '24:0a:c4:00:00:02', flashSize: '8MB' });
    // Every write of block 1 fails its checksum 3 times: esptool-js gives up on the first run,
    // the fault is used up by the retry.
    const faulty = await sim({
      mac: '24:0a:c4:00:00:03',
      faults: { badChecksum: { seq: 1, times: 3 } },
    });
    const ws = new WebSocket(`${t.ws}/api/v2/notify?access_token=${t.key}`);
    const events: Notification[] = [];
    ws.on('message', (d) => events.push(JSON.parse(d.toString()) as Notification));
    await new Promise((r) => ws.once('open', r));
    cleanups.push(async () => void ws.close());

    const image = firmwareLike(96 * 1024);
    const ports = [good1.host, good2.host, faulty.host];
    const started = await t.upload<BenchSnapshot>(
      '/api/v2/local/bench',
      form([['app.bin@0x10000', image]], { options: JSON.stringify({ ports, baud: 921600 }) }),
    );
    expect(started.status, started.text).toBe(200);
    expect(started.body.rows.map((r) => r.port)).toEqual(ports);

    // A second bench while this one runs is refused.
    const again = await t.json('POST', '/api/v2/local/bench', {
      ports: [good1.host],
      images: [{ data: Buffer.from(image).toString('base64'), address: 0x10000 }],
    });
    expect(again.status).toBe(409);

    const first = await benchDone();
    const row = (port: string) => first.rows.find((r) => r.port === port)!;
    expect(row(good1.host)).toMatchObject({
      outcome: 'ok',
      chip: 'ESP32',
      mac: '24:0a:c4:00:00:01',
      flashSize: '4MB',
      attempts: 1,
    });
    expect(row(good2.host)).toMatchObject({
      outcome: 'ok',
      mac: '24:0a:c4:00:00:02',
      flashSize: '8MB',
    });
    expect(row(faulty.host)).toMatchObject({
      outcome: 'failed',
      code: 'protocol_error',
      attempts: 1,
    });
    expect(row(good1.host).durationMs).toBeGreaterThan(0);
    expect(first.summary).toEqual({ total: 3, ok: 2, failed: 1, cancelled: 0, pending: 0 });
    for (const rig of [good1, good2]) {
      expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + image.length), image)).toBe(
        0,
      );
    }
    // The three jobs overlapped (concurrency 3).
    const jobs = (await t.json<JobRecord[]>('GET', '/api/v2/local/jobs')).body.filter((j) =>
      first.rows.some((r) => r.job === j.id),
    );
    expect(jobs).toHaveLength(3);
    const latestStart = Math.max(...jobs.map((j) => j.started!));
    const earliestEnd = Math.min(...jobs.map((j) => j.finished!));
    expect(latestStart).toBeLessThan(earliestEnd);

    const retried = await t.json<BenchSnapshot>('POST', '/api/v2/local/bench/retry');
    expect(retried.status).toBe(200);
    const second = await benchDone();
    expect(second.rows.find((r) => r.port === faulty.host)).toMatchObject({
      outcome: 'ok',
      attempts: 2,
      mac: '24:0a:c4:00:00:03',
    });
    expect(second.rows.find((r) => r.port === good1.host)?.attempts).toBe(1);
    expect(Buffer.compare(faulty.sim.flash.subarray(0x10000, 0x10000 + image.length), image)).toBe(
      0,
    );

    const csv = await fetch(`${t.http}/api/v2/local/bench.csv`, {
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('port,chip,mac,flash_size,device_id,outcome,duration_ms,attempts,error');
    expect(lines.slice(1, 4).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      `${good1.host},ESP32,24:0a:c4:00:00:01`,
      `${good2.host},ESP32,24:0a:c4:00:00:02`,
      `${faulty.host},ESP32,24:0a:c4:00:00:03`,
    ]);

    await until(
      () => events.filter((e) => e.name === 'flash.bench.done').length === 2,
      3000,
      'bench done x2',
    );
    const benchStates = events.filter((e) => e.name === 'flash.bench.state');
    const ports3 = new Set(benchStates.map((e) => (e.data as { port: string }).port));
    expect(ports3).toEqual(new Set(ports));
    expect(
      events.some(
        (e) =>
          e.name === 'flash.bench.row' &&
          (e.data as { row: { outcome: string } }).row.outcome === 'failed',
      ),
    ).toBe(true);
  });

  it('refuses bad bench input and unknown/duplicate ports without starting anything', async () => {
    const rig = await sim();
    const img = Buffer.from(firmwareLike(4096)).toString('base64');
    const cases: [unknown, number, number][] = [
      [{ images: [{ data: img, address: 0x10000 }] }, 400, 4002],
      [{ ports: [], images: [{ data: img, address: 0x10000 }] }, 400, 4002],
      [{ ports: [rig.host, rig.host], images: [{ data: img, address: 0x10000 }] }, 400, 4002],
      [{ ports: [rig.host], images: [{ data: img, address: 0x10001 }] }, 400, 4003],
      [
        {
          ports: [rig.host],
          images: [{ data: img, address: 0x10000 }],
          provision: { kind: 'nope' },
        },
        400,
        4002,
      ],
    ];
    for (const [body, status, code] of cases) {
      const r = await t.json('POST', '/api/v2/local/bench', body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
    }
    expect(t.hub.services().flasher.registry.list()).toEqual([]);
    // An unknown port fails its row only.
    const r = await t.json<BenchSnapshot>('POST', '/api/v2/local/bench', {
      ports: ['/dev/ttyNOPE3', rig.host],
      images: [{ data: img, address: 0x10000 }],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.rows[0]).toMatchObject({
      port: '/dev/ttyNOPE3',
      outcome: 'failed',
      code: 'port_not_found',
    });
    const done = await benchDone();
    expect(done.rows[1]).toMatchObject({ outcome: 'ok' });
  });

  it('bench flow for one board: flash, provision over serial, wait until the device is online', async () => {
    const rig = await sim();
    const jobs = t.hub.services().flasher.jobs;
    let peer: MosUartPeer | null = null;
    let device: SimDevice | null = null;
    cleanups.push(async () => {
      await device?.stop();
      await peer?.stop();
    });
    // After the flash the board reboots into Mongoose OS: swap the bootloader simulator for a
    // simulated mos device on the same pty, and bring the device online once it has its config.
    jobs.on('state', (job, state) => {
      if (state.state !== 'resetting' || peer) return;
      void (async () => {
        await rig.sim.stop();
        peer = await MosUartPeer.start({ path: rig.pair.a, deviceId: 'esp32_0A0B0C' });
      })();
    });
    const timer = setInterval(() => {
      const dash = peer?.saved['dash'] as { token?: string; server?: string } | undefined;
      if (!device && peer && peer.rebootCount > 0 && dash?.token && dash.server) {
        device = new SimDevice({ url: dash.server, password: dash.token, reconnect: false });
        device.start();
      }
    }, 20);
    cleanups.push(async () => clearInterval(timer));

    const r = await t.upload<BenchSnapshot>(
      '/api/v2/local/bench',
      form([['app.bin@0x10000', firmwareLike(32 * 1024)]], {
        options: JSON.stringify({
          ports: [rig.host],
          provision: {
            kind: 'mos',
            name: 'bench-1',
            wifi: { ssid: 'Lab', pass: 'password1' },
            onlineTimeoutMs: 15_000,
          },
        }),
      }),
    );
    expect(r.status, r.text).toBe(200);
    const done = await benchDone(40_000);
    const row = done.rows[0]!;
    expect(row, JSON.stringify(row)).toMatchObject({
      outcome: 'ok',
      chip: 'ESP32',
      deviceId: expect.any(String),
    });
    const dev = await t.json<{ id: string; name: string; online: boolean }>(
      'GET',
      `/api/v2/devices/${row.deviceId}`,
    );
    expect(dev.body).toMatchObject({ id: row.deviceId, name: 'bench-1', online: true });
    const job = await t.json<JobRecord>('GET', `/api/v2/local/jobs/${row.job}`);
    const names = job.body.history.map((h) => h.state.state);
    expect(names.slice(-3)).toEqual(['provisioning', 'waiting_online', 'done']);
    expect(job.body.result).toMatchObject({ deviceId: row.deviceId, online: true });
    // No secret in the job record.
    expect(JSON.stringify(job.body)).not.toContain('password1');
  }, 60_000);
});
