import { describe, expect, it } from 'vitest';
import type { OtaJobView, RolloutView } from '../../../src/renderer/api/schemas';
import {
  applyOtaNotifications,
  patchRolloutDevice,
  rolloutDevicePatch,
  rolloutIdOf,
} from '../../../src/renderer/lib/ota-notifications';
import { jobPercent, jobSummary, runningFirmware } from '../../../src/renderer/lib/ota-format';
import { isForceable, needsCommit } from '../../../src/renderer/stores/ota-store';
import type { Json } from '../../../src/shared/types';

const job = (over: Partial<OtaJobView> = {}): OtaJobView => ({
  id: 'j1',
  device: 'd1',
  firmware: 'f1',
  state: 'queued',
  bytes: 0,
  total: 1000,
  from_fw: 'a',
  to_fw: '',
  created: 1,
  ended: null,
  family: 'arduino',
  ...over,
});
const n = (name: string, data: unknown, id = 'd1') => ({ name, id, data: data as Json });

describe('OTA notifications applied to the device page', () => {
  it('progress moves a job to sending with its bytes; the whole job in ota.state replaces it', () => {
    let r = applyOtaNotifications(
      [job()],
      [n('ota.progress', { job: 'j1', percent: 40, bytes: 400, total: 1000 })],
    );
    expect(r.jobs[0]).toMatchObject({ state: 'sending', bytes: 400 });
    expect(jobPercent(r.jobs[0]!)).toBe(40);
    r = applyOtaNotifications(r.jobs, [n('ota.state', job({ state: 'rebooting', bytes: 1000 }))]);
    expect(r.jobs[0]?.state).toBe('rebooting');
    expect(jobSummary(r.jobs[0]!)).toMatch(/Rebooting/);
  });

  it('a late progress frame does not turn an ended job back into sending', () => {
    const r = applyOtaNotifications(
      [job({ state: 'done' })],
      [n('ota.progress', { job: 'j1', bytes: 10, total: 1000 })],
    );
    expect(r.jobs[0]?.state).toBe('done');
  });

  it('a new job arriving whole is added first; an unknown job id asks for a reload', () => {
    const r = applyOtaNotifications([job()], [n('ota.state', job({ id: 'j2', state: 'sending' }))]);
    expect(r.jobs.map((j) => j.id)).toEqual(['j2', 'j1']);
    const u = applyOtaNotifications([job()], [n('ota.state', { job: 'zz', state: 'done' })]);
    expect(u.unknown).toBe(true);
  });

  it('a small {job,state,error} patch is applied with its error', () => {
    const r = applyOtaNotifications(
      [job({ state: 'sending' })],
      [
        n('ota.state', {
          job: 'j1',
          state: 'failed',
          error: { code: 'device_offline', message: 'gone' },
        }),
      ],
    );
    expect(r.jobs[0]).toMatchObject({ state: 'failed', error: { code: 'device_offline' } });
    expect(jobSummary(r.jobs[0]!)).toBe('Failed: gone');
  });

  it('Force is offered for a platform mismatch and a file that is no image only', () => {
    expect(isForceable({ status: 409, code: 4096, message: 'esp32 vs esp8266' })).toBe(true);
    expect(isForceable({ status: 400, code: 4003, message: 'not an image' })).toBe(true);
    expect(
      isForceable({ status: 409, code: 4095, message: 'the device has an OTA update running' }),
    ).toBe(false);
    expect(isForceable({ status: 503, code: 503, message: 'offline' })).toBe(false);
  });

  it('Commit/Revert follow the boot state when known, else the job flag', () => {
    expect(needsCommit(job({ state: 'done', uncommitted: true }), null)).toBe(true);
    expect(needsCommit(job({ state: 'done' }), null)).toBe(false);
    expect(needsCommit(undefined, { is_committed: false })).toBe(true);
    expect(needsCommit(job({ state: 'done', uncommitted: true }), { is_committed: true })).toBe(
      false,
    );
  });

  it('the running firmware is the library one whose learned fw_id the device reports', () => {
    const lib = [{ id: 'f1', fw_id: '20261205-120000' }, { id: 'f2' }] as never[];
    expect(runningFirmware('20261205-120000', lib)).toMatchObject({ id: 'f1' });
    expect(runningFirmware('', lib)).toBeUndefined();
    expect(runningFirmware('other', lib)).toBeUndefined();
  });
});

describe('rollout notifications', () => {
  const rollout: RolloutView = {
    id: 'r1',
    firmware: 'f1',
    state: 'running',
    waves: [{ size: 2, state: 'running' }],
    counts: { pending: 1, updating: 1, done: 0, failed: 0, skipped: 0 },
    created: 1,
    ended: null,
    devices: [
      { id: 'd1', state: 'sending', wave: 0 },
      { id: 'd2', state: 'pending', wave: 0 },
    ],
  };

  it('finds the rollout id in the object, data.rollout or the notification id', () => {
    expect(rolloutIdOf(n('rollout.state', rollout, ''))).toBe('r1');
    expect(
      rolloutIdOf(n('rollout.device', { rollout: 'r1', device: 'd1', state: 'done' }, 'd1')),
    ).toBe('r1');
    expect(rolloutIdOf(n('rollout.state', { id: 'r9', state: 'paused' }, ''))).toBe('r9');
  });

  it('patches one device with its state and failure reason', () => {
    const p = rolloutDevicePatch(
      n('rollout.device', {
        rollout: 'r1',
        device: 'd1',
        state: 'rolled_back',
        error: { code: 'ota_rolled_back', message: 'came back on a' },
      }),
    );
    expect(p).not.toBeNull();
    const next = patchRolloutDevice(rollout, p!);
    expect(next.devices?.[0]).toMatchObject({
      state: 'rolled_back',
      error: { code: 'ota_rolled_back' },
    });
    const retried = patchRolloutDevice(next, { id: 'd1', state: 'queued' });
    expect(retried.devices?.[0]?.error).toBeUndefined();
  });
});
