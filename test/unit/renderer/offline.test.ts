/** The offline state: when the shown data stopped being live, and what the banner says. */
import { describe, expect, it } from 'vitest';
import { createConnectionStore, isStale } from '../../../src/renderer/stores/connection-store';
import { offlineText } from '../../../src/renderer/lib/offline-text';

describe('connection store: lostAt', () => {
  it('the first connect is not a loss; a close after an open is, until the next open', () => {
    let t = 1000;
    const c = createConnectionStore(() => t);
    c.getState().setStatus({ state: 'connecting', attempt: 0 });
    expect(isStale(c.getState())).toBe(false);
    c.getState().setStatus({ state: 'open', since: t });
    t = 5000;
    c.getState().setStatus({ state: 'reconnecting', attempt: 1, retryAt: 5500 });
    expect(c.getState().lostAt).toBe(5000);
    // Later attempts keep the moment the data stopped being live.
    t = 9000;
    c.getState().setStatus({ state: 'connecting', attempt: 1 });
    c.getState().setStatus({ state: 'reconnecting', attempt: 2, retryAt: 10_000 });
    expect(c.getState().lostAt).toBe(5000);
    c.getState().setStatus({ state: 'open', since: t });
    expect(c.getState().lostAt).toBeNull();
  });

  it('a first connect that fails is stale too; closing the stream (logout) is not', () => {
    const c = createConnectionStore(() => 42);
    c.getState().setStatus({ state: 'connecting', attempt: 0 });
    c.getState().setStatus({ state: 'reconnecting', attempt: 1, retryAt: 500 });
    expect(c.getState().lostAt).toBe(42);
    c.getState().setStatus({ state: 'closed' });
    expect(isStale(c.getState())).toBe(false);
  });
});

describe('offlineText', () => {
  const lostAt = new Date(2026, 0, 2, 14, 3, 7).getTime();

  it('names the last update as a clock time and an age, and the next attempt', () => {
    const t = offlineText(
      { state: 'reconnecting', attempt: 3, retryAt: lostAt + 40_000 },
      lostAt,
      lostAt + 35_000,
    );
    expect(t.title).toContain('not reachable');
    expect(t.detail).toContain('Last update 14:03:07 (35 s ago)');
    expect(t.retry).toBe('Reconnecting in 5 s');
  });

  it('says "Reconnecting…" while an attempt is under way', () => {
    expect(offlineText({ state: 'connecting', attempt: 2 }, lostAt, lostAt + 1000).retry).toBe(
      'Reconnecting…',
    );
    expect(
      offlineText({ state: 'reconnecting', attempt: 2, retryAt: lostAt }, lostAt, lostAt + 1000)
        .retry,
    ).toBe('Reconnecting…');
  });
});
