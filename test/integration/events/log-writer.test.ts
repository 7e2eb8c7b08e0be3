/**
 * Retention of stored notifications by count and by age (PROTOCOL.md 7 "bounded retention",
 * config.ts `retention`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startTestHub, waitFor, type TestHub } from '../../support/hub-harness';
import type { LogEntry } from '../../../src/shared/types';

async function logs(t: TestHub, body: unknown = { limit: 10_000 }): Promise<LogEntry[]> {
  const r = await t.api<LogEntry[]>('POST', '/api/v2/logs', body);
  expect(r.status).toBe(200);
  return r.body;
}

/** Twelve notifications: created + updated for six devices. */
async function makeEvents(t: TestHub, prefix: string, n = 6): Promise<void> {
  for (let i = 0; i < n; i++) {
    await t.createDevice({ id: `${prefix}-${i}` });
    await t.api('PUT', `/api/v2/devices/${prefix}-${i}`, { name: `${prefix} ${i}` });
  }
}

describe('retention by count', () => {
  let t: TestHub;
  beforeAll(async () => {
    // A sweep interval far in the future: the test sweeps by hand.
    t = await startTestHub({
      retention: { maxEntries: 5, maxAgeMs: 3_600_000, sweepIntervalMs: 3_600_000 },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('keeps only the newest maxEntries after a sweep', async () => {
    await makeEvents(t, 'cnt');
    await waitFor(async () => (await logs(t)).length >= 12, 5000, 'twelve stored entries');
    const before = await logs(t);
    const removed = await t.hub.services().logWriter.sweep();
    expect(removed).toBe(before.length - 5);
    const after = await logs(t);
    expect(after).toEqual(before.slice(-5));
    // A second sweep has nothing to do.
    expect(await t.hub.services().logWriter.sweep()).toBe(0);
  });

  it('keeps counting after a sweep: new entries push the oldest out', async () => {
    const kept = await logs(t);
    await makeEvents(t, 'more', 1);
    await waitFor(async () => (await logs(t)).length === kept.length + 2, 5000, 'two more');
    await t.hub.services().logWriter.sweep();
    const after = await logs(t);
    expect(after).toHaveLength(5);
    expect(after.slice(0, 3)).toEqual(kept.slice(-3));
    expect(after.slice(-2).map((e) => e.id)).toEqual(['more-0', 'more-0']);
  });
});

describe('retention by age', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({
      retention: { maxEntries: 100_000, maxAgeMs: 1000, sweepIntervalMs: 50 },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('removes entries older than maxAgeMs on the timer, keeps recent ones', async () => {
    await makeEvents(t, 'old', 2);
    await waitFor(async () => (await logs(t)).length === 4, 5000, 'the old entries');
    await sleep(1100);
    await t.createDevice({ id: 'fresh' });
    await waitFor(
      async () => !(await logs(t)).some((e) => e.id.startsWith('old-')),
      5000,
      'old entries to expire',
    );
    const left = await logs(t);
    expect(left.map((e) => `${e.name}:${e.id}`)).toEqual(['created:fresh']);
  });
});
