import { describe, expect, it } from 'vitest';
import {
  amountProblem,
  inTarget,
  labelsOfTags,
  planRollout,
  resolveAmount,
  splitLabels,
  waveSizes,
  type DeviceFacts,
  type RolloutSpec,
} from '../../../src/main/ota/rollout-plan';

const spec = (o: Partial<RolloutSpec> = {}): RolloutSpec => ({
  firmware: 'fw1',
  devices: [],
  labels: '',
  waves: ['100%'],
  max_failures: 1,
  health_s: 0,
  concurrency: 5,
  skip_current: true,
  offline: 'wait',
  ...o,
});

const dev = (id: string, o: Partial<DeviceFacts> = {}): DeviceFacts => ({
  id,
  online: true,
  labels: [],
  current: false,
  ...o,
});

describe('amounts', () => {
  it('accepts counts >= 1 and percentages in (0, 100]', () => {
    expect(amountProblem(1)).toBeNull();
    expect(amountProblem('10%')).toBeNull();
    expect(amountProblem('100%')).toBeNull();
    expect(amountProblem('0.5%')).toBeNull();
    expect(amountProblem(0)).not.toBeNull();
    expect(amountProblem(1.5)).not.toBeNull();
    expect(amountProblem('0%')).not.toBeNull();
    expect(amountProblem('101%')).not.toBeNull();
    expect(amountProblem('10')).not.toBeNull();
    expect(amountProblem('%')).not.toBeNull();
  });

  it('percentages round up and are at least 1', () => {
    expect(resolveAmount('10%', 30)).toBe(3);
    expect(resolveAmount('10%', 31)).toBe(4);
    expect(resolveAmount('10%', 5)).toBe(1);
    expect(resolveAmount('1%', 0)).toBe(1);
    expect(resolveAmount('100%', 7)).toBe(7);
    expect(resolveAmount(4, 2)).toBe(4);
  });
});

describe('waveSizes', () => {
  it('counts and percentages; the last wave takes the rest', () => {
    expect(waveSizes([1, '10%', '50%'], 30)).toEqual([1, 3, 26]);
    expect(waveSizes([5], 30)).toEqual([30]);
    expect(waveSizes(['10%', '10%'], 100)).toEqual([10, 90]);
    expect(waveSizes([2, 2, 2], 5)).toEqual([2, 2, 1]);
  });

  it('drops waves that would be empty, keeps at least one', () => {
    expect(waveSizes([3, 3, 3], 4)).toEqual([3, 1]);
    expect(waveSizes([10, '50%'], 4)).toEqual([4]);
    expect(waveSizes([1, 2], 0)).toEqual([0]);
  });
});

describe('target', () => {
  it('labels: comma-separated, trimmed, any of them matches', () => {
    expect(splitLabels(' a, b,,c ')).toEqual(['a', 'b', 'c']);
    expect(labelsOfTags({ labels: 'lab,  roof' })).toEqual(['lab', 'roof']);
    expect(labelsOfTags({ labels: 3 })).toEqual([]);
    expect(labelsOfTags(null)).toEqual([]);
    const s = { devices: ['x'], labels: 'roof,cellar' };
    expect(inTarget(s, dev('x'))).toBe(true);
    expect(inTarget(s, dev('y', { labels: ['cellar'] }))).toBe(true);
    expect(inTarget(s, dev('z', { labels: ['lab'] }))).toBe(false);
    expect(inTarget({ devices: [], labels: '' }, dev('z', { labels: [''] }))).toBe(false);
  });
});

describe('planRollout', () => {
  it('named devices first in the given order, then label matches, once each; missing ids listed', () => {
    const reg = [dev('a', { labels: ['l'] }), dev('b'), dev('c', { labels: ['l'] })];
    const p = planRollout(spec({ devices: ['b', 'zz', 'b', 'c'], labels: 'l' }), reg);
    expect(p.devices.map((d) => d.id)).toEqual(['b', 'c', 'a']);
    expect(p.missing).toEqual(['zz']);
  });

  it('splits into waves over the eligible devices', () => {
    const reg = Array.from({ length: 30 }, (_, i) => dev(`d${i}`, { labels: ['all'] }));
    const p = planRollout(spec({ labels: 'all', waves: [1, '10%', '50%'] }), reg);
    expect(p.waves).toEqual([1, 3, 26]);
    expect(p.devices.filter((d) => d.wave === 1).map((d) => d.id)).toEqual(['d1', 'd2', 'd3']);
  });

  it('skip_current leaves out devices on the firmware and they do not count in percentages', () => {
    const reg = Array.from({ length: 10 }, (_, i) => dev(`d${i}`, { current: i < 4 }));
    const ids = reg.map((d) => d.id);
    const p = planRollout(spec({ devices: ids, waves: ['50%', '50%'] }), reg);
    expect(p.skipped).toEqual({ current: 4, offline: 0 });
    expect(p.waves).toEqual([3, 3]);
    expect(p.devices.filter((d) => d.state === 'skipped').every((d) => d.skip === 'current')).toBe(
      true,
    );
    const all = planRollout(spec({ devices: ids, skip_current: false }), reg);
    expect(all.waves).toEqual([10]);
  });

  it("offline 'skip' skips offline devices; 'wait' keeps them pending, after the online ones", () => {
    const reg = [dev('a', { online: false }), dev('b'), dev('c', { online: false }), dev('d')];
    const ids = reg.map((d) => d.id);
    const skip = planRollout(spec({ devices: ids, offline: 'skip' }), reg);
    expect(skip.skipped.offline).toBe(2);
    expect(skip.waves).toEqual([2]);
    const wait = planRollout(spec({ devices: ids, offline: 'wait', waves: [2, 2] }), reg);
    expect(wait.offline_waiting).toBe(2);
    expect(wait.devices.map((d) => [d.id, d.wave])).toEqual([
      ['b', 0],
      ['d', 0],
      ['a', 1],
      ['c', 1],
    ]);
  });

  it('an already-current device is skipped as current even when offline', () => {
    const p = planRollout(spec({ devices: ['a'], offline: 'skip' }), [
      dev('a', { online: false, current: true }),
    ]);
    expect(p.devices).toEqual([{ id: 'a', wave: 0, state: 'skipped', skip: 'current' }]);
    expect(p.waves).toEqual([0]);
  });
});
