/**
 * How `flash.*` notifications move the jobs on the flasher page (the pure part of
 * features/flasher/flasher-store.ts), and the monitor frames as console lines.
 */
import { describe, expect, it } from 'vitest';
import type { JobView } from '../../../src/renderer/api/flasher-api';
import { applyFlashNotifications } from '../../../src/renderer/features/flasher/flasher-store';
import { frameLines } from '../../../src/renderer/features/flasher/monitor-store';
import type { Notification } from '../../../src/shared/types';

function job(id: string, state: JobView['state']): JobView {
  return { id, port: '/dev/ttyUSB0', kind: 'esp', state, created: 1, files: [] };
}

const n = (name: string, data: unknown): Notification => ({ name, id: '', data }) as Notification;

describe('applyFlashNotifications', () => {
  it('applies states and progress in order, keeping file numbers', () => {
    const jobs = [job('j1', { state: 'queued' }), job('j2', { state: 'queued' })];
    const r = applyFlashNotifications(jobs, [
      n('flash.state', { job: 'j1', state: { state: 'connecting', attempt: 1 } }),
      n('flash.progress', { job: 'j1', bytes: 10, total: 40, file: 0, files: 2, percent: 25 }),
    ]);
    expect(r.unknown).toBe(false);
    expect(r.jobs[0]!.state).toEqual({ state: 'writing', bytes: 10, total: 40, file: 0, files: 2 });
    expect(r.jobs[1]).toBe(jobs[1]);
  });

  it('never turns a finished job back into writing, and flags jobs it does not know', () => {
    const jobs = [job('j1', { state: 'done', durationMs: 5 })];
    const r = applyFlashNotifications(jobs, [
      n('flash.progress', { job: 'j1', bytes: 40, total: 40 }),
      n('flash.state', { job: 'j9', state: { state: 'queued' } }),
    ]);
    expect(r.jobs[0]!.state.state).toBe('done');
    expect(r.unknown).toBe(true);
  });

  it('ignores malformed notifications', () => {
    const jobs = [job('j1', { state: 'queued' })];
    const r = applyFlashNotifications(jobs, [
      n('flash.state', null),
      n('flash.state', { job: 'j1', state: 'done' }),
      n('flash.progress', { job: 'j1', bytes: '10', total: 40 }),
      n('flash.state', { job: 7, state: { state: 'done' } }),
    ]);
    expect(r.jobs[0]!.state).toEqual({ state: 'queued' });
    expect(r.unknown).toBe(false);
  });
});

describe('frameLines', () => {
  it('shows lines, warnings, errors, closes and panics; skips what has no text', () => {
    expect(frameLines({ type: 'line', line: 'boot' })).toEqual([{ kind: 'line', text: 'boot' }]);
    expect(frameLines({ type: 'error', code: 4002, message: 'bad frame' })).toEqual([
      { kind: 'error', text: '4002: bad frame' },
    ]);
    expect(
      frameLines({ type: 'close', reason: 'unplugged', message: 'the board went away' }),
    ).toEqual([{ kind: 'info', text: '--- port closed (unplugged): the board went away' }]);
    expect(
      frameLines({
        type: 'panic',
        panic: { reason: 'abort() was called', pc: 0x400d1234, lines: [] },
      }),
    ).toEqual([{ kind: 'panic', text: '--- panic: abort() was called at 0x400d1234' }]);
    expect(frameLines({ type: 'ok', request: 'write' })).toEqual([]);
    expect(frameLines({ type: 'data', base64: 'AA==' })).toEqual([]);
  });
});
