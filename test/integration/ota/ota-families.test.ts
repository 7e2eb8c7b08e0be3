/**
 * Single-device OTA end to end for both firmware families (issue 8, PROTOCOL.md 6): the job runs
 * through its states, the device comes back with the new identity, the library learns the fw_id
 * and records the install; Mongoose OS boots uncommitted and the device view commits or reverts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OtaJob, OtaProgress } from '../../../src/shared/ota';
import type { FirmwareInstall, FirmwareObject } from '../../../src/shared/firmware';
import { openNotify } from '../../support/hub-harness';
import { fwIdFor, imageFor, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

describe('single-device OTA, both families', () => {
  for (const family of ['arduino', 'mos'] as const) {
    it(`${family}: multipart upload, job done with the new identity, install recorded`, async () => {
      rig = await otaRig();
      await rig.addDevice('d1', family);
      const before = (await rig.info('d1'))['fw_id'];
      const notify = await openNotify(rig.t);
      const res = await rig.upload(
        'd1',
        imageFor(family, 1),
        '',
        family === 'mos' ? 'fw.zip' : 'app.bin',
      );
      expect(res.status, res.text).toBe(200);
      const job = res.body;
      expect(job).toMatchObject({
        device: 'd1',
        state: 'done',
        from_fw: before,
        to_fw: fwIdFor(family, 1),
        family,
        bytes: job.total,
      });
      expect(job.ended).not.toBeNull();
      if (family === 'mos') expect(job.uncommitted).toBe(true);
      else expect(job.uncommitted).toBeUndefined();

      // The file entered the library, which learned its fw_id and the install.
      const fw = (await rig.t.api<FirmwareObject>('GET', `/api/v2/firmware/${job.firmware}`)).body;
      expect(fw.fw_id).toBe(fwIdFor(family, 1));
      const lib = rig.t.hub.services().firmware;
      const installs: FirmwareInstall[] = lib.installedOn('d1');
      expect(installs.at(-1)).toMatchObject({ firmware: job.firmware, fw_id: fwIdFor(family, 1) });

      // States and progress as notifications, stored in the log like every notification.
      const states = notify.events
        .filter((n) => n.name === 'ota.state')
        .map((n) => (n.data as unknown as OtaJob).state);
      expect(states).toEqual(['queued', 'sending', 'rebooting', 'verifying', 'done']);
      const progress = notify.events.filter((n) => n.name === 'ota.progress');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)?.data).toMatchObject({ job: job.id, percent: 100 });
      // From 0% on, each event's percent is that of its bytes (the Arduino library counts the
      // same way, written * 100 / size): never a State.Set's percent beside an older byte count.
      const shown = progress.map((n) => n.data as unknown as OtaProgress);
      expect(shown[0]).toMatchObject({ percent: 0, bytes: 0 });
      for (const p of shown) expect(p.percent).toBe(Math.floor((p.bytes * 100) / p.total));
      notify.ws.close();
      const logs = await rig.t.api<{ name: string }[]>('POST', '/api/v2/logs', {});
      expect(JSON.stringify(logs.body)).toContain('ota.state');
      // The chunks went out live with their bytes; the stored log keeps them without (their length).
      const live = notify.events.find((n) => n.name === 'rpc.in.OTA.Write');
      expect(typeof (live?.data as { data?: unknown }).data).toBe('string');
      const chunks = await rig.t.api<{ name: string; data: Record<string, unknown> }[]>(
        'POST',
        '/api/v2/logs',
        { name: 'rpc.in.OTA.Write', device: 'd1', limit: 1000 },
      );
      expect(chunks.body.length).toBeGreaterThan(0);
      for (const c of chunks.body) {
        expect(c.data['data']).toBeUndefined();
        expect(c.data['data_len']).toBeGreaterThan(0);
      }

      // GET /ota lists it, newest first, and per device.
      const list = await rig.t.api<OtaJob[]>('GET', '/api/v2/ota?device=d1');
      expect(list.body.map((j) => j.id)).toEqual([job.id]);
      const ended = (await rig.t.api<OtaJob>('GET', `/api/v2/ota/${job.id}`)).body;
      expect(ended.state).toBe('done');
      // When each state began (hub clock, ms), in order: the transfer and the reboot are timed.
      const tl = ended.timeline ?? {};
      const order = ['queued', 'sending', 'rebooting', 'verifying', 'done'] as const;
      expect(Object.keys(tl).sort()).toEqual([...order].sort());
      for (let i = 1; i < order.length; i++) {
        expect(tl[order[i] ?? 'done']).toBeGreaterThanOrEqual(tl[order[i - 1] ?? 'queued'] ?? 0);
      }
      expect(Math.abs((tl.done ?? 0) - Date.now())).toBeLessThan(60_000);

      // The same firmware from the library by id: the expected fw_id is now known.
      const again = await rig.send('d1', job.firmware);
      expect(again.status, again.text).toBe(200);
      // It ran that image already and runs it again: done, not rolled back.
      expect(again.body).toMatchObject({ state: 'done', from_fw: fwIdFor(family, 1) });
    });
  }

  it('Mongoose OS: uncommitted after the update, then commit; Arduino has nothing to commit', async () => {
    rig = await otaRig();
    await rig.addDevice('m1', 'mos');
    const res = await rig.upload('m1', imageFor('mos', 2), '', 'fw.zip');
    expect(res.body).toMatchObject({ state: 'done', uncommitted: true });
    const commit = await rig.t.api<Record<string, unknown>>(
      'POST',
      '/api/v2/devices/m1/ota/commit',
    );
    expect(commit.status, commit.text).toBe(200);
    expect(commit.body).toMatchObject({ is_committed: true });
    const job = (await rig.t.api<OtaJob>('GET', `/api/v2/ota/${res.body.id}`)).body;
    expect(job.uncommitted).toBe(false);
    const twice = await rig.t.api<{ error: { code: number } }>(
      'POST',
      '/api/v2/devices/m1/ota/commit',
    );
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe(4097);

    await rig.addDevice('a1', 'arduino');
    const none = await rig.t.api<{ error: { code: number } }>(
      'POST',
      '/api/v2/devices/a1/ota/revert',
    );
    expect(none.status).toBe(409);
  });

  it('Mongoose OS: revert boots the previous firmware; commit=1 commits at once', async () => {
    rig = await otaRig();
    await rig.addDevice('m1', 'mos');
    const before = (await rig.info('m1'))['fw_id'];
    const res = await rig.upload('m1', imageFor('mos', 3), '', 'fw.zip');
    expect(res.body).toMatchObject({ state: 'done', uncommitted: true });
    const revert = await rig.t.api<Record<string, unknown>>(
      'POST',
      '/api/v2/devices/m1/ota/revert',
    );
    expect(revert.status, revert.text).toBe(200);
    expect(revert.body).toMatchObject({ is_committed: true });
    expect((await rig.info('m1'))['fw_id']).toBe(before);
    const job = (await rig.t.api<OtaJob>('GET', `/api/v2/ota/${res.body.id}`)).body;
    expect(job).toMatchObject({ uncommitted: false, reverted: true });

    const committed = await rig.upload('m1', imageFor('mos', 4), '?commit=1', 'fw.zip');
    expect(committed.body.state).toBe('done');
    expect(committed.body.uncommitted).toBeUndefined();
  });
});
