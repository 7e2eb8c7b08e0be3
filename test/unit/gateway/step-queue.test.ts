/**
 * Session steps run for a bounded number of devices at once, in login order, and fewer while
 * logins arrive (issue 11: in a connect storm logins go first). A fake clock drives the login
 * window; the quiet timer is real (a few ms).
 */
import { describe, expect, it } from 'vitest';
import { StepQueue } from '../../../src/main/gateway/step-queue';

interface Gate {
  started: string[];
  task(name: string): () => Promise<void>;
  finish(name: string): Promise<void>;
}

function gate(): Gate {
  const started: string[] = [];
  const ends = new Map<string, () => void>();
  return {
    started,
    task: (name) => () => {
      started.push(name);
      return new Promise<void>((resolve) => ends.set(name, resolve));
    },
    async finish(name) {
      ends.get(name)?.();
      // Let the queue's then() and the next start run.
      for (let i = 0; i < 3; i++) await Promise.resolve();
    },
  };
}

const LONG = 60_000;

describe('StepQueue', () => {
  it('while logins arrive runs `whileLoggingIn` at once, in order, the next as one ends', async () => {
    const now = 1000;
    const q = new StepQueue({
      running: 10,
      whileLoggingIn: 2,
      quietMs: 50,
      slotMs: LONG,
      now: () => now,
    });
    const g = gate();
    q.noteLogin();
    for (const n of ['a', 'b', 'c', 'd']) q.push(g.task(n));
    expect(g.started).toEqual(['a', 'b']);
    expect(q.queued).toBe(2);
    await g.finish('b');
    expect(g.started).toEqual(['a', 'b', 'c']);
    await g.finish('a');
    expect(g.started).toEqual(['a', 'b', 'c', 'd']);
    expect(q.active).toBe(2);
    expect(q.queued).toBe(0);
    q.close();
  });

  it('once logins pause, up to `running` run', async () => {
    let now = 1000;
    const q = new StepQueue({
      running: 3,
      whileLoggingIn: 1,
      quietMs: 5,
      slotMs: LONG,
      now: () => now,
    });
    const g = gate();
    q.noteLogin();
    for (const n of ['a', 'b', 'c', 'd', 'e']) q.push(g.task(n));
    expect(g.started).toEqual(['a']);
    // The quiet timer fires after quietMs; logins have stopped by then.
    now += 10;
    await new Promise((r) => setTimeout(r, 30));
    expect(g.started).toEqual(['a', 'b', 'c']);
    await g.finish('a');
    expect(g.started).toEqual(['a', 'b', 'c', 'd']);
    q.close();
  });

  it('a step still waiting on its device after `slotMs` stops counting: the next one starts', async () => {
    let now = 1000;
    const q = new StepQueue({
      running: 1,
      whileLoggingIn: 1,
      quietMs: 1,
      slotMs: 5,
      now: () => now,
    });
    const g = gate();
    for (const n of ['a', 'b', 'c']) q.push(g.task(n));
    expect(g.started).toEqual(['a']);
    now += 6;
    await new Promise((r) => setTimeout(r, 30));
    expect(g.started).toEqual(['a', 'b']);
    // 'a' ends late: it no longer counted, so it frees nothing; 'b' still holds the one place.
    await g.finish('a');
    expect(g.started).toEqual(['a', 'b']);
    await g.finish('b');
    expect(g.started).toEqual(['a', 'b', 'c']);
    expect(q.active).toBe(1);
    q.close();
  });

  it('a task that throws or rejects does not stall the queue', async () => {
    const q = new StepQueue({ running: 1, whileLoggingIn: 1, quietMs: LONG, slotMs: LONG });
    q.noteLogin();
    const ran: string[] = [];
    q.push(() => {
      throw new Error('sync');
    });
    q.push(() => Promise.reject(new Error('async')));
    q.push(async () => void ran.push('last'));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(ran).toEqual(['last']);
    expect(q.active).toBe(0);
    q.close();
  });

  it('keeps order across many queued tasks (the waiting list is compacted, not shifted)', async () => {
    const q = new StepQueue({ running: 1, whileLoggingIn: 1, quietMs: LONG, slotMs: LONG });
    const order: number[] = [];
    for (let i = 0; i < 5000; i++) q.push(async () => void order.push(i));
    while (q.queued > 0 || q.active > 0) await new Promise((r) => setImmediate(r));
    expect(order).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    q.close();
  });

  it('keeps order and the limit across thousands of finished steps (the started list is compacted, not sliced)', async () => {
    const q = new StepQueue({ running: 2, whileLoggingIn: 2, quietMs: LONG, slotMs: LONG });
    let running = 0;
    let most = 0;
    const order: number[] = [];
    for (let i = 0; i < 3000; i++) {
      q.push(async () => {
        order.push(i);
        most = Math.max(most, ++running);
        await new Promise((r) => setImmediate(r));
        running--;
      });
    }
    while (q.queued > 0 || q.active > 0) await new Promise((r) => setImmediate(r));
    expect(order).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(most).toBe(2);
    q.close();
  });

  it('refuses a limit below 1', () => {
    const ok = { running: 1, whileLoggingIn: 1, quietMs: 1, slotMs: 1 };
    expect(() => new StepQueue({ ...ok, running: 0 })).toThrow(RangeError);
    expect(() => new StepQueue({ ...ok, whileLoggingIn: 0.5 })).toThrow(RangeError);
  });
});
