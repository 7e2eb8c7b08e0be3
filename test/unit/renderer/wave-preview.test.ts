import { describe, expect, it } from 'vitest';
import {
  parseWaves,
  previewWaves,
  splitLabels,
  type PreviewDevice,
} from '../../../src/renderer/lib/wave-preview';

const fleet = (
  n: number,
  extra: (i: number) => Partial<PreviewDevice> = () => ({}),
): PreviewDevice[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `d${i}`,
    online: true,
    labels: ['shelf'],
    fwId: 'old',
    ...extra(i),
  }));

const base = {
  waves: [1, '10%', '100%'],
  skip_current: false,
  offline: 'wait' as const,
  targetFwId: '',
};

describe('wave preview (client-side fallback of POST /rollouts/preview)', () => {
  it('splits 30 devices into 1, 10% and the rest', () => {
    const p = previewWaves(fleet(30), { ...base, labels: 'shelf' });
    expect(p).toEqual({ total: 30, waves: [1, 3, 26], skippedCurrent: 0, offline: 0 });
  });

  it('rounds percentages up, takes at least one device, and never more than are left', () => {
    expect(
      previewWaves(fleet(7), { ...base, labels: 'shelf', waves: ['1%', '50%', 100] }).waves,
    ).toEqual([1, 4, 2]);
    expect(previewWaves(fleet(2), { ...base, labels: 'shelf', waves: [5, 5, 5] }).waves).toEqual([
      2, 0, 0,
    ]);
    expect(previewWaves([], { ...base, labels: 'shelf' }).waves).toEqual([0, 0, 0]);
  });

  it('the last wave takes what the listed ones leave over', () => {
    expect(previewWaves(fleet(10), { ...base, labels: 'shelf', waves: [2, '20%'] }).waves).toEqual([
      2, 8,
    ]);
  });

  it('targets device ids plus devices with ANY of the labels, once each', () => {
    const devices = fleet(6, (i) => ({ labels: i < 2 ? ['a'] : i < 4 ? ['b'] : ['c'] }));
    const p = previewWaves(devices, {
      ...base,
      waves: ['100%'],
      labels: 'a, b',
      devices: ['d0', 'd5'],
    });
    expect(p.total).toBe(5);
  });

  it('skip_current drops devices already reporting the learned fw_id; unknown fw_id skips none', () => {
    const devices = fleet(10, (i) => ({ fwId: i < 4 ? 'new' : 'old' }));
    const input = { ...base, labels: 'shelf', waves: ['100%'], skip_current: true };
    expect(previewWaves(devices, { ...input, targetFwId: 'new' })).toMatchObject({
      total: 6,
      skippedCurrent: 4,
    });
    expect(previewWaves(devices, { ...input, targetFwId: '' })).toMatchObject({
      total: 10,
      skippedCurrent: 0,
    });
  });

  it('offline devices are waited for or skipped', () => {
    const devices = fleet(10, (i) => ({ online: i >= 3 }));
    expect(previewWaves(devices, { ...base, labels: 'shelf', offline: 'wait' })).toMatchObject({
      total: 10,
      offline: 3,
    });
    expect(previewWaves(devices, { ...base, labels: 'shelf', offline: 'skip' })).toMatchObject({
      total: 7,
      offline: 3,
    });
  });

  it('parses the waves field and names the first bad entry', () => {
    expect(parseWaves('1, 10%  100%')).toEqual({ ok: true, waves: [1, '10%', '100%'] });
    expect(parseWaves('')).toMatchObject({ ok: false });
    expect(parseWaves('1, ten')).toEqual({
      ok: false,
      error: expect.stringContaining('"ten"') as string,
    });
    expect(parseWaves('0')).toMatchObject({ ok: false });
    expect(parseWaves('150%')).toMatchObject({ ok: false });
    expect(splitLabels(' a,,b ,')).toEqual(['a', 'b']);
  });
});
