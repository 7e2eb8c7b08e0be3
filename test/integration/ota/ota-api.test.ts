/**
 * The OTA REST surface (PROTOCOL.md 9) and its refusals: platform mismatch (409 naming both,
 * unless forced), not an image (400 unless forced), oversize (413), offline (503), a second job
 * on a device (409), cancel of a queued and of a sending job, the concurrency limit's queue,
 * `wait=0`, and jobs that survive a hub restart.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtaJob } from '../../../src/shared/ota';
import { espAppImage, mosFwZip } from '../../../src/main/sim/sim-firmware-files';
import { openNotify, startTestHub, waitFor } from '../../support/hub-harness';
import { appImage, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

type Err = { error: { code: number; message: string } };

describe('OTA API refusals', () => {
  it('platform mismatch: 409 naming both platforms, sent with force=1', async () => {
    rig = await otaRig();
    await rig.addDevice('p1', 'mos'); // arch esp32
    const zip = mosFwZip({
      version: '3.0.0',
      build_id: 'b-8266',
      platform: 'esp8266',
      bodyBytes: 3000,
    });
    const refused = await rig.upload('p1', zip, '', 'fw.zip');
    expect(refused.status).toBe(409);
    const err = refused.body as unknown as Err;
    expect(err.error.code).toBe(4096);
    expect(err.error.message).toContain("'esp8266'");
    expect(err.error.message).toContain("'esp32'");
    const forced = await rig.upload('p1', zip, '?force=1', 'fw.zip');
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ state: 'done', to_fw: 'b-8266' });

    const s3 = espAppImage({ chipId: 9, time: '11:00:00', size: 3000 });
    const chip = await rig.upload('p1', s3, '', 'app.bin');
    expect(chip.status).toBe(409);
    expect((chip.body as unknown as Err).error.message).toContain('esp32s3');
  });

  it('not an image: 400 unless forced; forced it is sent as it is and not kept', async () => {
    rig = await otaRig();
    await rig.addDevice('n1', 'arduino');
    const junk = Buffer.alloc(5000, 0x41);
    const refused = await rig.upload('n1', junk, '', 'notes.txt');
    expect(refused.status).toBe(400);
    expect((refused.body as unknown as Err).error.code).toBe(4003);
    const forced = await rig.upload('n1', junk, '?force=1', 'notes.txt');
    expect(forced.status).toBe(200);
    // Whether it boots is the device's business now (the simulated one runs any bytes).
    expect(forced.body).toMatchObject({ firmware: '', bytes: 5000, total: 5000 });
    expect(forced.body.ended).not.toBeNull();
    const lib = rig.t.hub.services().firmware;
    expect(lib.list()).toEqual([]);
    // The temporary file goes once the job has let go of it.
    await waitFor(() => readdirSync(lib.dir).length === 0, 2000, 'temporary file removed');
  });

  it('oversize 413, offline 503, unknown firmware 404, bad query 400', async () => {
    rig = await otaRig({ firmware: { maxImageBytes: 4096 } });
    await rig.addDevice('o1', 'arduino');
    const big = await rig.upload('o1', appImage(1, 4097), '', 'app.bin');
    expect(big.status).toBe(413);
    const edge = await rig.upload('o1', appImage(1, 4096), '', 'app.bin');
    expect(edge.status).toBe(200);
    await rig.t.createDevice({ id: 'away' });
    const offline = await rig.send('away', edge.body.firmware);
    expect(offline.status).toBe(503);
    expect((offline.body as unknown as Err).error.code).toBe(503);
    expect((await rig.send('o1', 'fw_nope')).status).toBe(404);
    expect((await rig.send('nobody', edge.body.firmware)).status).toBe(404);
    expect((await rig.send('o1', edge.body.firmware, '?wait=maybe')).status).toBe(400);
    expect((await rig.t.api('GET', '/api/v2/ota/nojob')).status).toBe(404);
  });
});

describe('OTA jobs: one per device, queue, cancel, wait=0', () => {
  it('a second job on the same device gets 409; wait=0 answers 202 at once', async () => {
    rig = await otaRig();
    await rig.addDevice('s1', 'arduino', { faults: { otaWriteDelayMs: 40 } });
    const fw = await rig.addFirmware(appImage(2, 9000), 'app.bin');
    const first = await rig.send('s1', fw.id, '?wait=0');
    expect(first.status).toBe(202);
    expect(['queued', 'sending']).toContain(first.body.state);
    const second = await rig.send('s1', fw.id, '?wait=0');
    expect(second.status).toBe(409);
    expect((second.body as unknown as Err).error.code).toBe(4095);
    const done = await rig.waitJob(first.body.id, (j) => j.ended !== null);
    expect(done.state).toBe('done');
  });

  it('cancel while sending: Arduino gets OTA.End, the next job begins cleanly', async () => {
    rig = await otaRig();
    await rig.addDevice('c1', 'arduino', { faults: { otaWriteDelayMs: 40 } });
    const fw = await rig.addFirmware(appImage(3, 20_000), 'app.bin');
    const notify = await openNotify(rig.t);
    const job = (await rig.send('c1', fw.id, '?wait=0')).body;
    await rig.waitJob(job.id, (j) => j.bytes > 0);
    const cancelled = await rig.t.api<OtaJob>('DELETE', `/api/v2/ota/${job.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    expect(cancelled.body.bytes).toBeLessThan(20_000);
    expect(notify.events.some((n) => n.name === 'rpc.in.OTA.End' && n.id === 'c1')).toBe(true);
    notify.ws.close();
    const again = await rig.t.api<Err>('DELETE', `/api/v2/ota/${job.id}`);
    expect(again.status).toBe(409);
    const retry = await rig.send('c1', fw.id);
    expect(retry.body.state).toBe('done');
  });

  it('the concurrency limit queues FIFO; a queued job can be cancelled', async () => {
    rig = await otaRig({ ota: { maxConcurrent: 1 } });
    for (const id of ['q1', 'q2', 'q3']) {
      await rig.addDevice(id, 'arduino', { faults: { otaWriteDelayMs: 20 } });
    }
    const fw = await rig.addFirmware(appImage(4, 8000), 'app.bin');
    const a = (await rig.send('q1', fw.id, '?wait=0')).body;
    const b = (await rig.send('q2', fw.id, '?wait=0')).body;
    const c = (await rig.send('q3', fw.id, '?wait=0')).body;
    expect(b.state).toBe('queued');
    expect(c.state).toBe('queued');
    await rig.waitJob(a.id, (j) => j.state === 'sending');
    expect((await rig.t.api<OtaJob>('GET', `/api/v2/ota/${b.id}`)).body.state).toBe('queued');
    const cancelled = await rig.t.api<OtaJob>('DELETE', `/api/v2/ota/${c.id}`);
    expect(cancelled.body.state).toBe('cancelled');
    const doneB = await rig.waitJob(b.id, (j) => j.ended !== null);
    const doneA = await rig.waitJob(a.id, (j) => j.ended !== null);
    expect([doneA.state, doneB.state]).toEqual(['done', 'done']);
    const list = (await rig.t.api<OtaJob[]>('GET', '/api/v2/ota')).body.map((j) => j.id);
    expect(list).toEqual([c.id, b.id, a.id]);
  });
});

describe('OTA jobs across a hub restart', () => {
  it('GET /ota keeps jobs; one that was mid-transfer ends failed (ota_interrupted)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fb-ota-'));
    try {
      rig = await otaRig({ dataDir });
      await rig.addDevice('r1', 'arduino', { faults: { otaWriteDelayMs: 40 } });
      const fw = await rig.addFirmware(appImage(5, 30_000), 'app.bin');
      const job = (await rig.send('r1', fw.id, '?wait=0')).body;
      await rig.waitJob(job.id, (j) => j.bytes > 0);
      await rig.stop();
      rig = null;
      const t = await startTestHub({ dataDir });
      try {
        const after = await t.api<OtaJob>('GET', `/api/v2/ota/${job.id}`);
        expect(after.body).toMatchObject({ state: 'failed', error: { code: 'ota_interrupted' } });
        expect(after.body.ended).not.toBeNull();
        const list = await t.api<OtaJob[]>('GET', '/api/v2/ota');
        expect(list.body.map((j) => j.id)).toEqual([job.id]);
      } finally {
        await t.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
