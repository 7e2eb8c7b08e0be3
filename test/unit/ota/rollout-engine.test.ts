import { describe, expect, it } from 'vitest';
import {
  applyFwId,
  applyJob,
  applyOffline,
  applyRecheck,
  countDevices,
  decide,
  markInterrupted,
  retryDevice,
  waveView,
  type DecideContext,
  type EngineDevice,
  type EngineRollout,
} from '../../../src/main/ota/rollout-engine';
import type { RolloutSpec } from '../../../src/main/ota/rollout-plan';
import type { OtaJob } from '../../../src/shared/ota';

const spec = (o: Partial<RolloutSpec> = {}): RolloutSpec => ({
  firmware: 'fw1',
  devices: [],
  labels: '',
  waves: ['100%'],
  max_failures: 3,
  health_s: 1,
  concurrency: 2,
  skip_current: true,
  offline: 'wait',
  ...o,
});

const rollout = (o: Partial<EngineRollout> = {}, s: Partial<RolloutSpec> = {}): EngineRollout => ({
  id: 'r1',
  spec: spec(s),
  state: 'running',
  started: 0,
  waves: 1,
  created: 0,
  ended: null,
  ...o,
});

const dev = (id: string, wave = 0, o: Partial<EngineDevice> = {}): EngineDevice => ({
  id,
  wave,
  state: 'pending',
  attempts: 0,
  ...o,
});

const ctx = (
  o: { now?: number; busy?: DecideContext['busy']; offline?: string[]; current?: string[] } = {},
): DecideContext => ({
  now: o.now ?? 1000,
  online: (id: string) => !(o.offline ?? []).includes(id),
  current: (d: EngineDevice) => (o.current ?? []).includes(d.id),
  busy: o.busy ?? (() => false),
});

const job = (o: Partial<OtaJob> = {}): OtaJob => ({
  id: 'j1',
  device: 'a',
  firmware: 'fw1',
  state: 'sending',
  bytes: 0,
  total: 10,
  from_fw: 'old',
  to_fw: '',
  created: 0,
  ended: null,
  family: 'mos',
  ...o,
});

const kinds = (a: { kind: string; id?: string; wave?: number }[]): string[] =>
  a.map((x) => ((x.id ?? x.wave) === undefined ? x.kind : `${x.kind}:${x.id ?? x.wave}`));

describe('decide', () => {
  it('does nothing unless running; paused rollouts only finish what runs', () => {
    expect(decide(rollout({ state: 'paused' }), [dev('a')], ctx())).toEqual([]);
    expect(decide(rollout({ state: 'completed' }), [dev('a')], ctx())).toEqual([]);
    const health = dev('h', 0, { state: 'verifying', health_until: 0 });
    expect(kinds(decide(rollout({ state: 'paused' }), [dev('a'), health], ctx()))).toEqual([
      'healthy:h',
    ]);
  });

  it('resume acknowledges the failures so far: only new ones count', () => {
    const devices = [dev('a', 0, { state: 'failed' }), dev('b', 0, { state: 'failed' }), dev('c')];
    const r = rollout({ started: 1, acknowledged_failures: 2 }, { max_failures: 2 });
    expect(kinds(decide(r, devices, ctx()))).toEqual(['start:c']);
  });

  it('starts the first wave and jobs up to the concurrency', () => {
    const r = rollout({ waves: 2 });
    const devices = [dev('a'), dev('b'), dev('c'), dev('d', 1)];
    expect(kinds(decide(r, devices, ctx()))).toEqual(['start_wave:0', 'start:a', 'start:b']);
  });

  it('the next wave waits until every online device of the current one is done or failed', () => {
    const r = rollout({ waves: 2, started: 1 });
    const running = [
      dev('a', 0, { state: 'sending' }),
      dev('b', 0, { state: 'done' }),
      dev('c', 1),
    ];
    expect(kinds(decide(r, running, ctx()))).toEqual([]);
    const finished = [
      dev('a', 0, { state: 'failed' }),
      dev('b', 0, { state: 'done' }),
      dev('c', 1),
    ];
    expect(kinds(decide(r, finished, ctx()))).toEqual(['start_wave:1', 'start:c']);
    // An offline device waiting (offline: wait) does not hold the next wave back...
    const waiting = [dev('a', 0), dev('b', 0, { state: 'done' }), dev('c', 1)];
    expect(kinds(decide(r, waiting, ctx({ offline: ['a'] })))).toEqual(['start_wave:1', 'start:c']);
    // ...an online pending one does.
    expect(kinds(decide(r, waiting, ctx()))).toEqual(['start:a']);
  });

  it('health windows do not hold a concurrency slot; a device in one is not done yet', () => {
    const r = rollout({ started: 1 }, { concurrency: 1 });
    const devices = [dev('a', 0, { state: 'verifying', health_until: 5000 }), dev('b')];
    expect(kinds(decide(r, devices, ctx()))).toEqual(['start:b']);
    expect(kinds(decide(r, devices, ctx({ now: 5000 })))).toEqual(['healthy:a', 'start:b']);
  });

  it('pauses at max_failures (count and percentage), counting rolled_back and cancelled', () => {
    const devices = [
      dev('a', 0, { state: 'failed' }),
      dev('b', 0, { state: 'rolled_back' }),
      dev('c'),
      dev('d'),
    ];
    const r = rollout({ started: 1 }, { max_failures: 2 });
    expect(decide(r, devices, ctx())).toEqual([
      { kind: 'pause', reason: '2 devices failed (max_failures 2)' },
    ]);
    expect(kinds(decide(rollout({ started: 1 }, { max_failures: 3 }), devices, ctx()))).toEqual([
      'start:c',
      'start:d',
    ]);
    // 50% of 4 = 2
    expect(decide(rollout({ started: 1 }, { max_failures: '50%' }), devices, ctx())[0]?.kind).toBe(
      'pause',
    );
    // skipped devices are not in the total: 50% of 2 (a, b) = 1 -> paused
    const withSkipped = [...devices.slice(0, 1), dev('s', 0, { state: 'skipped' })];
    expect(decide(rollout({}, { max_failures: '50%' }), withSkipped, ctx())[0]?.kind).toBe('pause');
  });

  it("skips pending devices already on the firmware, and offline ones under 'skip'", () => {
    const r = rollout({}, { offline: 'skip' });
    const out = decide(r, [dev('a'), dev('b'), dev('c')], ctx({ offline: ['b'], current: ['c'] }));
    expect(kinds(out)).toEqual(['start_wave:0', 'skip:b', 'skip:c', 'start:a']);
    const wait = decide(rollout(), [dev('a'), dev('b')], ctx({ offline: ['b'] }));
    expect(kinds(wait)).toEqual(['start_wave:0', 'start:a']);
  });

  it("completes when nothing is pending or updating; 'wait' keeps it running for offline devices", () => {
    const done = [dev('a', 0, { state: 'done' }), dev('b', 0, { state: 'failed' })];
    expect(kinds(decide(rollout({ started: 1 }), done, ctx()))).toEqual(['complete']);
    const offline = [...done, dev('c')];
    expect(kinds(decide(rollout({ started: 1 }), offline, ctx({ offline: ['c'] })))).toEqual([]);
    expect(
      kinds(decide(rollout({ started: 0 }, { offline: 'skip' }), offline, ctx({ offline: ['c'] }))),
    ).toEqual(['start_wave:0', 'skip:c', 'complete']);
  });

  it('wave_success: the next wave starts once enough are done; unreachable pauses; resume waives it', () => {
    const r = rollout({ waves: 2, started: 1 }, { wave_success: '50%', max_failures: 10 });
    const half = [dev('a', 0, { state: 'done' }), dev('b', 0, { state: 'sending' }), dev('c', 1)];
    expect(kinds(decide(r, half, ctx()))).toEqual(['start_wave:1', 'start:c']);
    const low = [
      dev('a', 0, { state: 'failed' }),
      dev('b', 0, { state: 'failed' }),
      dev('x', 0, { state: 'done' }),
      dev('y', 0, { state: 'failed' }),
      dev('c', 1),
    ];
    const out = decide(r, low, ctx());
    expect(out).toEqual([
      { kind: 'pause', reason: 'wave 1 reached 1 of the 2 done devices it needs (wave_success)' },
    ]);
    expect(kinds(decide({ ...r, accepted_wave: 0 }, low, ctx()))).toEqual([
      'start_wave:1',
      'start:c',
    ]);
  });

  it('dynamic joins: a device added to a started wave is started like the others', () => {
    const r = rollout({ started: 1 });
    const devices = [dev('a', 0, { state: 'done' }), dev('new', 0)];
    expect(kinds(decide(r, devices, ctx()))).toEqual(['start:new']);
  });

  it('re-verifies interrupted devices once they are online; they hold no slot', () => {
    const r = rollout({ started: 1 }, { concurrency: 1 });
    const devices = [dev('a', 0, { state: 'verifying', recheck: true }), dev('b')];
    expect(kinds(decide(r, devices, ctx({ offline: ['a'] })))).toEqual(['start:b']);
    expect(kinds(decide(r, devices, ctx()))).toEqual(['recheck:a', 'start:b']);
    expect(kinds(decide(r, devices, ctx({ busy: (id) => id === 'a' })))).toEqual(['start:b']);
  });
});

describe('device transitions', () => {
  it('mirrors its job; done opens the health window; other jobs are ignored', () => {
    const d = dev('a', 0, { state: 'queued', job: 'j1', attempts: 1 });
    expect(applyJob(d, job({ state: 'sending' }), 0, 1)?.state).toBe('sending');
    expect(applyJob(d, job({ id: 'other', state: 'failed' }), 0, 1)).toBeNull();
    const done = applyJob(d, job({ state: 'done', to_fw: 'new', uncommitted: true }), 1000, 2);
    expect(done).toMatchObject({
      state: 'verifying',
      to_fw: 'new',
      health_until: 3000,
      commit: true,
    });
    const arduino = applyJob(d, job({ state: 'done', family: 'arduino', to_fw: 'n' }), 0, 1);
    expect(arduino?.commit).toBe(false);
    expect(applyJob(d, job({ state: 'rolled_back' }), 0, 1)).toMatchObject({
      state: 'rolled_back',
      error: { code: 'rolled_back' },
    });
    const failed = applyJob(
      d,
      job({ state: 'failed', error: { code: 'device_error', message: 'x' } }),
      0,
      1,
    );
    expect(failed?.error).toEqual({ code: 'device_error', message: 'x' });
  });

  it('health window: going offline or another fw_id fails it', () => {
    const d = dev('a', 0, { state: 'verifying', health_until: 10, to_fw: 'new' });
    expect(applyOffline(d)).toMatchObject({
      state: 'failed',
      error: { code: 'health_check_failed' },
    });
    expect(applyOffline({ ...d, health_until: undefined } as EngineDevice)).toBeNull();
    expect(applyFwId(d, 'new')).toBeNull();
    expect(applyFwId(d, 'old')?.error?.message).toContain('reported fw_id old instead of new');
    expect(applyOffline(dev('b'))).toBeNull();
  });

  it('interrupted updates: new firmware -> health window; old -> pending, failed past the attempts', () => {
    const d = markInterrupted(dev('a', 0, { state: 'sending', job: 'j', attempts: 1 }));
    expect(d).toMatchObject({ state: 'verifying', recheck: true });
    expect(markInterrupted(dev('a', 0, { state: 'done' }))).toBeNull();
    if (!d) throw new Error('no device');
    expect(applyRecheck(d, 'new', true, 0, 1, 3)).toMatchObject({
      state: 'verifying',
      health_until: 1000,
    });
    expect(applyRecheck(d, 'old', false, 0, 1, 3)).toMatchObject({ state: 'pending', attempts: 1 });
    expect(applyRecheck({ ...d, attempts: 3 }, 'old', false, 0, 1, 3)).toMatchObject({
      state: 'failed',
      error: { code: 'ota_interrupted' },
    });
  });

  it('retry puts failed devices back to pending', () => {
    expect(
      retryDevice(
        dev('a', 0, { state: 'failed', attempts: 2, error: { code: 'x', message: 'y' } }),
      ),
    ).toEqual(dev('a', 0, { state: 'pending', attempts: 0 }));
    expect(retryDevice(dev('a', 0, { state: 'done' }))).toBeNull();
  });

  it('counts and waves', () => {
    const r = rollout({ waves: 2, started: 1 });
    const devices = [
      dev('a', 0, { state: 'done' }),
      dev('b', 0, { state: 'rolled_back' }),
      dev('c', 1),
      dev('s', 0, { state: 'skipped' }),
      dev('u', 1, { state: 'sending' }),
    ];
    expect(countDevices(devices)).toEqual({
      pending: 1,
      updating: 1,
      done: 1,
      failed: 1,
      skipped: 1,
    });
    expect(waveView(r, devices)).toEqual([
      { size: 2, state: 'done' },
      { size: 2, state: 'pending' },
    ]);
  });
});
