import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  PendingCalls,
  PendingCallsFullError,
  RpcClosedError,
  RpcRemoteError,
  RpcTimeoutError,
} from '../../../src/main/rpc/pending-calls';
import { decodeDeviceFrame } from '../../../src/main/rpc/frame-codec';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('PendingCalls (PROTOCOL.md 2: ids unique per session, timeouts)', () => {
  it('hands out ids 1, 2, 3 .. per instance', () => {
    const a = new PendingCalls({ timeoutMs: 1000 });
    const b = new PendingCalls({ timeoutMs: 1000 });
    expect([a.start('X').id, a.start('X').id, a.start('Y').id]).toEqual([1, 2, 3]);
    expect(b.start('X').id).toBe(1);
    expect(a.size).toBe(3);
    a.failAll('test over');
    b.failAll('test over');
  });

  it('resolves with the result and forgets the call', async () => {
    const p = new PendingCalls({ timeoutMs: 1000 });
    const one = p.start('Sys.GetInfo');
    const two = p.start('FS.List');
    expect(p.settle({ id: two.id, result: ['a.txt'] })).toBe(true);
    expect(p.settle({ id: one.id, result: { fw_version: '1.0' } })).toBe(true);
    await expect(one.promise).resolves.toEqual({ fw_version: '1.0' });
    await expect(two.promise).resolves.toEqual(['a.txt']);
    expect(p.size).toBe(0);
  });

  it('a reply with neither result nor error resolves to null; falsy results are kept', async () => {
    const p = new PendingCalls({ timeoutMs: 1000 });
    const a = p.start('A');
    const b = p.start('B');
    p.settle({ id: a.id });
    p.settle({ id: b.id, result: false });
    await expect(a.promise).resolves.toBeNull();
    await expect(b.promise).resolves.toBe(false);
  });

  it('settles straight from a decoded reply frame', async () => {
    const p = new PendingCalls({ timeoutMs: 1000 });
    const call = p.start('OTA.Begin');
    const frame = decodeDeviceFrame(`{"id":${call.id},"src":"d1","result":true}`, 8192);
    if (frame.kind !== 'reply') throw new Error('expected a reply');
    expect(p.settle(frame)).toBe(true);
    await expect(call.promise).resolves.toBe(true);
  });

  it('an error reply rejects with RpcRemoteError carrying code, message, data, method', async () => {
    const p = new PendingCalls({ timeoutMs: 1000 });
    const call = p.start('FS.Get');
    expect(
      p.settle({ id: call.id, error: { code: 404, message: 'no file', data: { f: 'x' } } }),
    ).toBe(true);
    const e = await call.promise.then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(RpcRemoteError);
    expect(e).toBeInstanceOf(Error);
    const r = e as RpcRemoteError;
    expect([r.code, r.message, r.data, r.method]).toEqual([404, 'no file', { f: 'x' }, 'FS.Get']);
    expect(p.size).toBe(0);
  });

  it('times out with RpcTimeoutError; a late reply is then unknown', async () => {
    const p = new PendingCalls({ timeoutMs: 20 });
    const t0 = Date.now();
    const call = p.start('Shadow.Delta');
    const e = await call.promise.then(
      () => null,
      (x: unknown) => x,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    expect(e).toBeInstanceOf(RpcTimeoutError);
    expect((e as RpcTimeoutError).method).toBe('Shadow.Delta');
    expect((e as RpcTimeoutError).timeoutMs).toBe(20);
    expect(p.size).toBe(0);
    expect(p.settle({ id: call.id, result: 1 })).toBe(false);
  });

  it('a per-call timeout overrides the default', async () => {
    const p = new PendingCalls({ timeoutMs: 60_000 });
    const slow = p.start('Slow');
    const fast = p.start('Fast', 20);
    await expect(fast.promise).rejects.toBeInstanceOf(RpcTimeoutError);
    expect(p.size).toBe(1);
    expect(p.settle({ id: slow.id, result: 'ok' })).toBe(true);
    await expect(slow.promise).resolves.toBe('ok');
  });

  it('a reply that arrives in time wins over the timeout', async () => {
    const p = new PendingCalls({ timeoutMs: 40 });
    const call = p.start('X');
    await sleep(5);
    p.settle({ id: call.id, result: 1 });
    await sleep(60); // past the timeout: nothing must change any more
    await expect(call.promise).resolves.toBe(1);
  });

  it('unknown, duplicate and string ids are refused without side effects', async () => {
    const p = new PendingCalls({ timeoutMs: 1000 });
    const call = p.start('X');
    expect(p.settle({ id: 999, result: 1 })).toBe(false);
    expect(p.settle({ id: String(call.id), result: 1 })).toBe(false); // we only issue numbers
    expect(p.settle({ id: 0, result: 1 })).toBe(false);
    expect(p.size).toBe(1);
    expect(p.settle({ id: call.id, result: 'real' })).toBe(true);
    expect(p.settle({ id: call.id, result: 'dup' })).toBe(false);
    await expect(call.promise).resolves.toBe('real');
  });

  it('failAll rejects every pending call at once with RpcClosedError', async () => {
    const p = new PendingCalls({ timeoutMs: 60_000 });
    const calls = [p.start('A'), p.start('B'), p.start('C')];
    const t0 = Date.now();
    p.failAll('device disconnected');
    expect(p.size).toBe(0);
    const errors = await Promise.all(
      calls.map((c) =>
        c.promise.then(
          () => null,
          (e: unknown) => e,
        ),
      ),
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    errors.forEach((e, i) => {
      expect(e).toBeInstanceOf(RpcClosedError);
      expect((e as RpcClosedError).method).toBe(['A', 'B', 'C'][i]);
      expect((e as RpcClosedError).reason).toBe('device disconnected');
    });
    expect(p.settle({ id: calls[0]!.id, result: 1 })).toBe(false);
  });

  it('after failAll, new calls fail at once instead of waiting for a closed socket', async () => {
    const p = new PendingCalls({ timeoutMs: 60_000 });
    p.failAll('closed');
    const t0 = Date.now();
    const late = p.start('X');
    await expect(late.promise).rejects.toBeInstanceOf(RpcClosedError);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(p.size).toBe(0);
  });

  it('an ignored promise that rejects is not an unhandled rejection', async () => {
    const seen: unknown[] = [];
    const onUnhandled = (r: unknown): void => {
      seen.push(r);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const p = new PendingCalls({ timeoutMs: 10 });
      p.start('Shadow.Delta'); // fire and forget: timeout
      p.start('Other');
      p.failAll('closed'); // fire and forget: closed
      const q = new PendingCalls({ timeoutMs: 10 });
      q.start('Timed');
      await sleep(50);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(seen).toEqual([]);
  });

  it('refuses nonsensical timeouts', () => {
    expect(() => new PendingCalls({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new PendingCalls({ timeoutMs: Number.NaN })).toThrow(RangeError);
    expect(() => new PendingCalls({ timeoutMs: 2 ** 31 })).toThrow(RangeError);
    expect(() => new PendingCalls({ timeoutMs: 1000 }).start('X', -5)).toThrow(RangeError);
  });

  describe('timers', () => {
    it('every timer is unref-ed and cleared on settle and on failAll (no leaks)', () => {
      const created: Array<ReturnType<typeof setTimeout>> = [];
      const realSet = globalThis.setTimeout;
      vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
        ...args: Parameters<typeof setTimeout>
      ) => {
        const t = realSet(...args);
        created.push(t);
        return t;
      }) as typeof setTimeout);
      const cleared = vi.spyOn(globalThis, 'clearTimeout');

      const p = new PendingCalls({ timeoutMs: 60_000 });
      const a = p.start('A');
      p.start('B');
      p.start('C');
      expect(created).toHaveLength(3);
      for (const t of created) expect(t.hasRef()).toBe(false);

      p.settle({ id: a.id, result: 1 });
      expect(cleared).toHaveBeenCalledWith(created[0]);
      p.failAll('closed');
      expect(cleared).toHaveBeenCalledWith(created[1]);
      expect(cleared).toHaveBeenCalledWith(created[2]);
    });

    it('a pending call does not keep the process alive', () => {
      const modulePath = fileURLToPath(
        new URL('../../../src/main/rpc/pending-calls.ts', import.meta.url),
      );
      const script = [
        `import { PendingCalls } from ${JSON.stringify(modulePath)};`,
        'const p = new PendingCalls({ timeoutMs: 60000 });',
        "p.start('Never.Answered');",
        "console.log('pending', p.size);",
      ].join('\n');
      const t0 = Date.now();
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        {
          encoding: 'utf8',
          timeout: 15_000,
        },
      );
      expect(child.signal).toBeNull(); // killed by the 15 s guard = a timer held the process
      expect(child.status).toBe(0);
      expect(child.stdout).toContain('pending 1');
      expect(Date.now() - t0).toBeLessThan(15_000);
    });
  });

  describe('maxPending (issue 7 item 15)', () => {
    it('refuses the call past the limit at once, without registering it', async () => {
      const p = new PendingCalls({ timeoutMs: 60_000, maxPending: 2 });
      const a = p.start('A');
      p.start('B');
      expect(p.full).toBe(true);
      const c = p.start('C');
      await expect(c.promise).rejects.toBeInstanceOf(PendingCallsFullError);
      await expect(c.promise).rejects.toMatchObject({ kind: 'too_many_calls', status: 429 });
      expect(p.size).toBe(2);
      // The refused id is not waiting: a reply to it is unknown.
      expect(p.settle({ id: c.id, result: 1 })).toBe(false);
      // One answer frees a place.
      expect(p.settle({ id: a.id, result: 1 })).toBe(true);
      expect(p.full).toBe(false);
      const d = p.start('D');
      expect(p.size).toBe(2);
      p.failAll('test over');
      await expect(d.promise).rejects.toBeInstanceOf(RpcClosedError);
    });

    it('a timed-out call frees its place too', async () => {
      const p = new PendingCalls({ timeoutMs: 20, maxPending: 1 });
      const a = p.start('A');
      expect(p.full).toBe(true);
      await expect(a.promise).rejects.toBeInstanceOf(RpcTimeoutError);
      expect(p.full).toBe(false);
    });

    it('is unbounded when not given, and refuses a limit below 1', () => {
      const p = new PendingCalls({ timeoutMs: 60_000 });
      for (let i = 0; i < 1000; i++) p.start('X');
      expect(p.full).toBe(false);
      p.failAll('test over');
      expect(() => new PendingCalls({ timeoutMs: 1000, maxPending: 0 })).toThrow(RangeError);
    });
  });

  it("mapError turns every failure into what callers see, on the call's own promise", async () => {
    const p = new PendingCalls({
      timeoutMs: 20,
      mapError: (err) => new Error(`mapped ${err.name} ${err.method}`),
    });
    const remote = p.start('A');
    const late = p.start('B');
    const open = p.start('C', 60_000);
    p.settle({ id: remote.id, error: { code: 1, message: 'no' } });
    await expect(remote.promise).rejects.toThrow('mapped RpcRemoteError A');
    await expect(late.promise).rejects.toThrow('mapped RpcTimeoutError B');
    p.failAll('gone');
    await expect(open.promise).rejects.toThrow('mapped RpcClosedError C');
    await expect(p.start('D').promise).rejects.toThrow('mapped RpcClosedError D');
  });

  it('has(id) is true exactly while the call waits', () => {
    const p = new PendingCalls({ timeoutMs: 1000 });
    const call = p.start('X');
    expect([p.has(call.id), p.has(String(call.id)), p.has(call.id + 1)]).toEqual([
      true,
      false,
      false,
    ]);
    p.settle({ id: call.id, result: 1 });
    expect(p.has(call.id)).toBe(false);
  });
});

describe('PendingCalls memory (issue 11: most sessions of a fleet have no call waiting)', () => {
  it('holds its map only while a call waits: after replies, timeouts and failAll it is gone', async () => {
    const p = new PendingCalls({ timeoutMs: 20 });
    expect(p.allocated).toBe(false);
    const a = p.start('A');
    const b = p.start('B');
    expect(p.allocated).toBe(true);
    expect(p.settle({ id: a.id, result: 1 })).toBe(true);
    expect(p.allocated).toBe(true); // B still waits
    expect(p.settle({ id: b.id, result: 2 })).toBe(true);
    expect(p.allocated).toBe(false);
    expect(await a.promise).toBe(1);
    // A later call gets a fresh map, with ids still unique.
    const c = p.start('C');
    expect(c.id).toBe(3);
    await expect(c.promise).rejects.toBeInstanceOf(RpcTimeoutError);
    expect(p.allocated).toBe(false);
    expect(p.settle({ id: c.id, result: 3 })).toBe(false); // late reply: unknown
    p.start('D');
    p.failAll('closed');
    expect(p.allocated).toBe(false);
    expect(p.size).toBe(0);
  });

  it('keeps every call apart whichever order replies come in, and fails them oldest first', async () => {
    const p = new PendingCalls({ timeoutMs: 60_000 });
    const [a, b, c] = [p.start('A'), p.start('B'), p.start('C')];
    // The second reply first, then the first: each resolves its own call only.
    expect(p.settle({ id: b.id, result: 'b' })).toBe(true);
    expect(p.settle({ id: a.id, result: 'a' })).toBe(true);
    expect([p.size, p.has(a.id), p.has(b.id), p.has(c.id)]).toEqual([1, false, false, true]);
    const d = p.start('D'); // takes the free place while C still waits
    const e = p.start('E');
    expect(p.size).toBe(3);
    expect(p.settle({ id: d.id, result: 'd' })).toBe(true);
    expect(p.settle({ id: d.id, result: 'again' })).toBe(false);
    expect([await a.promise, await b.promise, await d.promise]).toEqual(['a', 'b', 'd']);
    const f = p.start('F');
    const failed: string[] = [];
    for (const x of [f, e, c]) x.promise.catch((err: RpcClosedError) => failed.push(err.method));
    p.failAll('closed');
    await sleep(0);
    expect(failed).toEqual(['C', 'E', 'F']); // in the order they were made
    expect([p.size, p.allocated]).toEqual([0, false]);
  });
});
