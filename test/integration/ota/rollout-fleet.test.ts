/**
 * Staged rollouts through a real hub and simulated devices (issue 8, PROTOCOL.md 9): a fleet
 * where a share rolls back auto-pauses at max_failures; resume, retry, abort with a rollback
 * rollout that sends each device its previous firmware; health-window failure; dynamic joins;
 * the firmware delete refusal; a hub restart mid-rollout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Rollout } from '../../../src/shared/ota';
import type { LogEntry, Notification } from '../../../src/shared/types';
import { openNotify, startTestHub, waitFor } from '../../support/hub-harness';
import { mosZip, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

type RolloutReply = Rollout & { rollback?: Rollout & { unavailable: unknown[] } };

async function rollout(r: OtaRig, id: string): Promise<Rollout> {
  return (await r.t.api<Rollout>('GET', `/api/v2/rollouts/${id}`)).body;
}

async function waitRollout(
  r: OtaRig,
  id: string,
  pred: (ro: Rollout) => boolean,
  timeoutMs = 20_000,
): Promise<Rollout> {
  let last: Rollout | undefined;
  await waitFor(
    async () => {
      last = await rollout(r, id);
      return pred(last);
    },
    timeoutMs,
    `rollout ${id}`,
  ).catch(async (err: unknown) => {
    // Say where it stood: a timeout alone tells nothing about which device got stuck, so add the
    // stored events of every device that did not end done.
    const stuck = (last?.devices ?? []).filter((d) => d.state !== 'done').map((d) => d.id);
    const trails = await Promise.all(
      stuck.map(async (device) => {
        const res = await r.t.api<LogEntry[]>('POST', '/api/v2/logs', { device, limit: 60 });
        const names = res.body.map((e) => `${e.timestamp} ${e.name}`);
        return `${device}: ${names.join(', ')}`;
      }),
    );
    throw new Error(
      `${(err as Error).message}; last seen: ${JSON.stringify(last)}\n${trails.join('\n')}`,
    );
  });
  if (!last) throw new Error('unreachable');
  return last;
}

async function create(r: OtaRig, body: object): Promise<Rollout> {
  const res = await r.t.api<Rollout>('POST', '/api/v2/rollouts', body);
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function label(r: OtaRig, id: string, labels: string): Promise<void> {
  const res = await r.t.api('POST', `/api/v2/devices/${id}`, { shadow: { tags: { labels } } });
  expect(res.status, res.text).toBe(200);
}

describe('rollouts over a simulated fleet', () => {
  it('a share that rolls back auto-pauses at max_failures; resume, retry, abort with rollback', async () => {
    rig = await otaRig();
    const r = rig;
    const ids = Array.from({ length: 30 }, (_, i) => `fleet-${String(i).padStart(2, '0')}`);
    const rollbackIds = new Set(ids.filter((_, i) => i % 5 === 4)); // 6 devices
    await Promise.all(ids.map((id) => r.addDevice(id, 'mos')));
    await Promise.all(ids.map((id) => label(r, id, 'fleet, lab')));
    const v1 = await r.addFirmware(mosZip(1, 3000), 'v1.zip');
    const v2 = await r.addFirmware(mosZip(2, 3000), 'v2.zip');

    // v1 everywhere first: the library then knows what each device ran before v2.
    const preview = await r.t.api<{ waves: number[]; total: number }>(
      'POST',
      '/api/v2/rollouts/preview',
      {
        firmware: v1.id,
        labels: 'fleet',
        waves: [1, '10%', '100%'],
      },
    );
    expect(preview.body).toMatchObject({ waves: [1, 3, 26], total: 30 });
    const first = await create(r, {
      firmware: v1.id,
      labels: 'fleet',
      waves: [1, '10%', '100%'],
      max_failures: 1,
      health_s: 0,
      concurrency: 10,
    });
    expect(first.waves.map((w) => w.size)).toEqual([1, 3, 26]);
    const done1 = await waitRollout(r, first.id, (ro) => ro.state === 'completed');
    expect(done1.counts).toMatchObject({ done: 30, failed: 0, pending: 0 });
    expect(await r.info('fleet-00')).toMatchObject({ fw_id: 'build-1' });

    // v2: a fifth of the fleet reboots into the old image.
    for (const d of r.devices) if (rollbackIds.has(d.id)) d.setFaults({ otaRollback: true });
    const notify = await openNotify(r.t);
    const second = await create(r, {
      firmware: v2.id,
      devices: ids,
      waves: ['20%', '100%'],
      max_failures: 3,
      health_s: 1,
      concurrency: 10,
      skip_current: true,
      offline: 'wait',
    });
    const paused = await waitRollout(r, second.id, (ro) => ro.state === 'paused');
    expect(paused.reason).toMatch(/devices failed \(max_failures 3\)/);
    expect(paused.counts.failed).toBeGreaterThanOrEqual(3);
    const failedDevices = (paused.devices ?? []).filter((d) => d.state === 'rolled_back');
    expect(failedDevices.every((d) => rollbackIds.has(d.id))).toBe(true);
    expect(failedDevices[0]?.error?.code).toBeTruthy();
    // The firmware of an active rollout cannot be deleted.
    expect((await r.t.api('DELETE', `/api/v2/firmware/${v2.id}`)).status).toBe(409);

    // Resume: the failures so far are acknowledged; the rest runs until 3 more fail.
    const resumed = await r.t.api<Rollout>('POST', `/api/v2/rollouts/${second.id}/resume`);
    expect(resumed.body.state).toBe('running');
    const pausedAgain = await waitRollout(
      r,
      second.id,
      (ro) => ro.state === 'paused' || ro.state === 'completed',
    );
    expect(pausedAgain.counts.failed).toBe(6);
    // Retry with the fault fixed: the rolled-back devices get v2 too.
    for (const d of r.devices) d.setFaults({});
    await waitRollout(r, second.id, (ro) => ro.counts.updating === 0);
    const retried = await r.t.api<Rollout>('POST', `/api/v2/rollouts/${second.id}/retry`);
    expect(retried.status).toBe(200);
    const done2 = await waitRollout(r, second.id, (ro) => ro.state === 'completed');
    expect(done2.counts).toMatchObject({ done: 30, failed: 0 });
    expect(await r.info('fleet-04')).toMatchObject({ fw_id: 'build-2' });
    const states = notify.events.filter((n: Notification) => n.name === 'rollout.state');
    expect(states.some((n) => (n.data as { state?: string }).state === 'paused')).toBe(true);
    expect(notify.events.some((n) => n.name === 'rollout.device' && n.id === 'fleet-04')).toBe(
      true,
    );
    notify.ws.close();

    // A completed rollout cannot be aborted, but it can be rolled back.
    expect((await r.t.api('POST', `/api/v2/rollouts/${second.id}/abort`)).status).toBe(409);
    const back = await r.t.api<Rollout & { unavailable: unknown[] }>(
      'POST',
      `/api/v2/rollouts/${second.id}/rollback`,
    );
    expect(back.status, back.text).toBe(201);
    expect(back.body).toMatchObject({ firmware: v1.id, rollback_of: second.id, unavailable: [] });
    await waitRollout(r, back.body.id, (ro) => ro.state === 'completed');
    expect(await r.info('fleet-04')).toMatchObject({ fw_id: 'build-1' });
    expect(await r.info('fleet-29')).toMatchObject({ fw_id: 'build-1' });
    // Nothing active any more: the firmware can go.
    expect((await r.t.api('DELETE', `/api/v2/firmware/${v2.id}`)).status).toBe(200);
  }, 90_000);

  it('abort of a paused rollout with {"rollback":true} sends the previous firmware back', async () => {
    rig = await otaRig();
    const r = rig;
    await r.addDevice('a', 'mos');
    await r.addDevice('b', 'mos', { faults: { otaRollback: true } });
    await r.addDevice('c', 'mos');
    const v1 = await r.addFirmware(mosZip(1, 2000), 'v1.zip');
    const v2 = await r.addFirmware(mosZip(2, 2000), 'v2.zip');
    const base = await create(r, { firmware: v1.id, devices: ['a', 'b', 'c'], health_s: 0 });
    // b rolls back from v1 too: its rollout pauses; let it count as done anyway for v2's test.
    await waitRollout(r, base.id, (ro) => ro.counts.updating === 0 && ro.counts.pending === 0);
    r.devices[1]?.setFaults({});
    const ro = await create(r, {
      firmware: v2.id,
      devices: ['a', 'b', 'c'],
      health_s: 0,
      concurrency: 1,
      max_failures: 1,
    });
    await waitRollout(r, ro.id, (x) => x.state === 'completed');
    // Rolled-back firmware: a (v1 before) can go back, b never ran v1 (no earlier firmware known).
    const abortDone = await r.t.api('POST', `/api/v2/rollouts/${ro.id}/abort`, { rollback: true });
    expect(abortDone.status).toBe(409);
    const res = await r.t.api<Rollout & { unavailable: { id: string }[] }>(
      'POST',
      `/api/v2/rollouts/${ro.id}/rollback`,
    );
    expect(res.status, res.text).toBe(201);
    expect(res.body.unavailable.map((u) => u.id)).toEqual(['b']);
    const back = await waitRollout(r, res.body.id, (x) => x.state === 'completed');
    expect(back.devices?.map((d) => d.id).sort()).toEqual(['a', 'c']);
    expect(await r.info('a')).toMatchObject({ fw_id: 'build-1' });
    expect(await r.info('b')).toMatchObject({ fw_id: 'build-2' });

    // Now the paused case: abort with rollback in one call. An offline device that the rollout
    // waits for keeps it running once a and c are done, so it is paused with both updated.
    const v3 = await r.addFirmware(mosZip(3, 2000), 'v3.zip');
    await r.t.createDevice({ id: 'away' });
    const third = await create(r, {
      firmware: v3.id,
      devices: ['a', 'c', 'away'],
      health_s: 0,
      concurrency: 1,
      offline: 'wait',
    });
    const updated = await waitRollout(r, third.id, (x) => x.counts.done === 2);
    expect(updated.state).toBe('running');
    expect((await r.t.api('POST', `/api/v2/rollouts/${third.id}/pause`)).status).toBe(200);
    const aborted = await r.t.api<RolloutReply>('POST', `/api/v2/rollouts/${third.id}/abort`, {
      rollback: true,
    });
    expect(aborted.status).toBe(200);
    expect(aborted.body.state).toBe('aborted');
    // a and c ran v1 before v3 (the rollback above); 'away' took nothing and is not sent back.
    expect(aborted.body.rollback?.firmware).toBe(v1.id);
    const rolledBack = await waitRollout(
      r,
      aborted.body.rollback?.id ?? '',
      (x) => x.state === 'completed',
    );
    expect(rolledBack.devices?.map((d) => d.id).sort()).toEqual(['a', 'c']);
    expect(await r.info('a')).toMatchObject({ fw_id: 'build-1' });
    expect(await r.info('c')).toMatchObject({ fw_id: 'build-1' });
  }, 60_000);

  it('a device that drops during its health window fails with health_check_failed', async () => {
    rig = await otaRig();
    const r = rig;
    const dev = await r.addDevice('h1', 'mos');
    const v2 = await r.addFirmware(mosZip(2, 2000), 'v2.zip');
    const ro = await create(r, { firmware: v2.id, devices: ['h1'], health_s: 30, max_failures: 1 });
    await waitRollout(r, ro.id, (x) => x.devices?.[0]?.health_until !== undefined, 10_000);
    await dev.stop();
    const failed = await waitRollout(r, ro.id, (x) => x.state === 'paused');
    expect(failed.devices?.[0]).toMatchObject({
      state: 'failed',
      error: { code: 'health_check_failed', message: 'went offline during the health window' },
    });
  });

  it('health window passes: the Mongoose OS image is committed, the device is done', async () => {
    rig = await otaRig();
    const r = rig;
    await r.addDevice('m1', 'mos');
    await r.addDevice('a1', 'arduino');
    const v2 = await r.addFirmware(mosZip(2, 2000), 'v2.zip');
    const ro = await create(r, { firmware: v2.id, devices: ['m1'], health_s: 1 });
    const done = await waitRollout(r, ro.id, (x) => x.state === 'completed');
    expect(done.devices?.[0]).toMatchObject({ state: 'done', to_fw: 'build-2' });
    const boot = await r.t.api('POST', '/api/v2/devices/m1/rpc/OTA.GetBootState', {});
    expect(boot.body).toMatchObject({ is_committed: true });
  });

  it('dynamic: a device labelled while the rollout runs joins it; offline ones wait', async () => {
    rig = await otaRig();
    const r = rig;
    await r.addDevice('d1', 'mos');
    await label(r, 'd1', 'roof');
    const late = await r.t.createDevice({ id: 'late' }); // registered, offline: it waits
    await label(r, 'late', 'roof');
    const v2 = await r.addFirmware(mosZip(2, 2000), 'v2.zip');
    const ro = await create(r, { firmware: v2.id, labels: 'roof', health_s: 0, offline: 'wait' });
    expect(ro.counts.pending).toBe(2);
    await waitRollout(r, ro.id, (x) => x.counts.done === 1);
    expect((await rollout(r, ro.id)).state).toBe('running'); // 'late' is still offline
    await r.addDevice('d2', 'mos');
    await label(r, 'd2', 'cellar, roof');
    await waitRollout(
      r,
      ro.id,
      (x) => x.devices?.some((d) => d.id === 'd2' && d.state === 'done') === true,
    );
    expect(late.id).toBe('late');
    // Aborted: the firmware is free again.
    expect((await r.t.api('DELETE', `/api/v2/firmware/${v2.id}`)).status).toBe(409);
    expect((await r.t.api<Rollout>('POST', `/api/v2/rollouts/${ro.id}/abort`)).body.state).toBe(
      'aborted',
    );
    expect((await r.t.api('DELETE', `/api/v2/firmware/${v2.id}`)).status).toBe(200);
  });

  it('bad requests: schema, amounts, unknown firmware or devices, no target, unknown rollout', async () => {
    rig = await otaRig();
    const r = rig;
    await r.addDevice('x', 'mos');
    const v2 = await r.addFirmware(mosZip(2, 2000), 'v2.zip');
    const post = (body: unknown) =>
      r.t.api<{ error: { code: number } }>('POST', '/api/v2/rollouts', body);
    expect((await post({ firmware: v2.id, devices: ['x'], waves: ['150%'] })).body.error.code).toBe(
      4002,
    );
    expect((await post({ firmware: v2.id, devices: ['x'], waves: [0] })).body.error.code).toBe(
      4002,
    );
    expect((await post({ firmware: v2.id, devices: ['x'], extra: 1 })).body.error.code).toBe(4002);
    expect((await post({ firmware: v2.id })).body.error.code).toBe(4002);
    expect((await post({ firmware: v2.id, labels: 'nobody' })).body.error.code).toBe(4002);
    expect((await post({ firmware: 'fw_nope', devices: ['x'] })).body.error.code).toBe(4045);
    expect((await post({ firmware: v2.id, devices: ['ghost'] })).body.error.code).toBe(4041);
    expect((await post({ firmware: v2.id, devices: ['x'], health_s: 10_000 })).status).toBe(400);
    expect((await r.t.api('GET', '/api/v2/rollouts/ro_nope')).status).toBe(404);
    expect((await r.t.api('POST', '/api/v2/rollouts/ro_nope/pause')).status).toBe(404);
    expect((await r.t.api('GET', '/api/v2/rollouts', undefined, null)).status).toBe(401);
  });
});

describe('hub restart', () => {
  it('a restarted hub resumes the rollout and re-verifies devices that were mid-update', async () => {
    rig = await otaRig();
    let r = rig;
    await r.addDevice('r1', 'mos');
    await r.addDevice('r2', 'mos');
    await r.addDevice('r3', 'mos');
    const v2 = await r.addFirmware(mosZip(2, 2000), 'v2.zip');
    const ro = await create(r, {
      firmware: v2.id,
      devices: ['r1', 'r2', 'r3'],
      health_s: 3,
      concurrency: 1,
    });
    // Stop while r1 sits in its health window.
    await waitRollout(
      r,
      ro.id,
      (x) => x.devices?.some((d) => d.health_until !== undefined) === true,
    );
    const { dataDir } = r.t;
    const port = Number(new URL(r.t.http).port);
    await r.t.hub.stop();
    const t2 = await startTestHub({ dataDir, port, ota: { rebootWindowMs: 5000 } });
    r = {
      ...r,
      t: t2,
      stop: async () => {
        await Promise.all(r.devices.map((d) => d.stop()));
        await t2.stop();
      },
    };
    rig = r;
    // The first request may land on a kept-alive socket of the stopped hub: retry it once.
    const resumed = await rollout(r, ro.id).catch(() => rollout(r, ro.id));
    expect(resumed.state).toBe('running');
    const done = await waitRollout(r, ro.id, (x) => x.state === 'completed', 30_000);
    expect(done.counts).toMatchObject({ done: 3, failed: 0 });
    // r1 was re-verified by its fw_id, not sent the image again.
    expect(done.devices?.find((d) => d.id === 'r1')?.attempts).toBe(1);
    expect(await r.info('r1')).toMatchObject({ fw_id: 'build-2' });
  }, 60_000);
});
