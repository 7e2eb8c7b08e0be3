import { describe, expect, it } from 'vitest';
import { parseRoute, routeHash } from '../../../src/renderer/lib/routes';
import { rolloutBody, DEFAULT_FORM } from '../../../src/renderer/features/rollouts/rollout-form';

describe('firmware and rollout routes', () => {
  it('round-trip the new pages and rollout ids', () => {
    expect(parseRoute('#/firmware')).toEqual({ name: 'firmware' });
    expect(parseRoute('#/rollouts')).toEqual({ name: 'rollouts' });
    for (const id of ['r1', 'a b', 'ü']) {
      expect(parseRoute(routeHash({ name: 'rollout', id }))).toEqual({ name: 'rollout', id });
    }
    expect(parseRoute('#/rollouts/%E0%A4%A')).toEqual({ name: 'devices' });
  });
});

describe('rollout form body (what the preview and the create send)', () => {
  const form = { ...DEFAULT_FORM, firmware: 'fw1', labels: 'shelf, lab' };

  it('builds the PROTOCOL.md 9 body', () => {
    expect(rolloutBody({ ...form, devices: 'd1 d2,d3', maxFailures: '3' })).toEqual({
      ok: true,
      body: {
        firmware: 'fw1',
        devices: ['d1', 'd2', 'd3'],
        labels: 'shelf,lab',
        waves: [1, '10%', '100%'],
        max_failures: 3,
        health_s: 60,
        concurrency: 10,
        skip_current: true,
        offline: 'wait',
      },
    });
  });

  it('names what is missing or wrong', () => {
    expect(rolloutBody({ ...form, firmware: '' })).toMatchObject({ ok: false });
    expect(rolloutBody({ ...form, labels: '' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/target/) as string,
    });
    expect(rolloutBody({ ...form, maxFailures: 'some' })).toMatchObject({ ok: false });
    expect(rolloutBody({ ...form, concurrency: '0' })).toMatchObject({ ok: false });
    expect(rolloutBody({ ...form, healthS: '-1' })).toMatchObject({ ok: false });
    expect(rolloutBody({ ...form, waves: '1, x' })).toMatchObject({ ok: false });
  });
});
