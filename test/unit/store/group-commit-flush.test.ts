/**
 * The asynchronous WAL flush of group commit (src/main/store/group-commit.ts, header comment): a
 * batch commits with `synchronous = NORMAL`, the WAL file is flushed by an `fdatasync` on the libuv
 * pool, and the batch's callers resolve only after that flush, in commit order, one flush at a time.
 *
 * Real SQLite files in temp dirs. To see and steer the flush, node's own `fs.fdatasync` is wrapped
 * (not our code): the wrapper still runs the real `fdatasync`, and can hold its completion back or
 * report an I/O error, so a test can commit batches while a flush is still running.
 */
import {
  mkdtempSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/main/store/database';
import { GroupCommitter } from '../../../src/main/store/group-commit';
import { HubError } from '../../../src/shared/errors';

const SCHEMA = ['CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)'];

type FlushCallback = (err: NodeJS.ErrnoException | null) => void;
/** node's CommonJS `fs`: assigning to it and calling syncBuiltinESMExports() rebinds `import { fdatasync }`. */
const fsCjs = createRequire(import.meta.url)('node:fs') as {
  fdatasync: (fd: number, cb: FlushCallback) => void;
};

interface FlushProbe {
  /** fdatasync calls so far, and the fd of each. */
  calls: number;
  fds: number[];
  inFlight: number;
  maxInFlight: number;
  /** While true, a finished fdatasync does not report back until release(). */
  hold: boolean;
  /** The next fdatasync reports this error (after really flushing). */
  failNext: NodeJS.ErrnoException | null;
  held(): number;
  /** Reports every held fdatasync; flushes they start meanwhile are held again while `hold`. */
  release(): void;
  restore(): void;
}

function probeFdatasync(): FlushProbe {
  const real = fsCjs.fdatasync;
  const waiting: (() => void)[] = [];
  const probe: FlushProbe = {
    calls: 0,
    fds: [],
    inFlight: 0,
    maxInFlight: 0,
    hold: false,
    failNext: null,
    held: () => waiting.length,
    release: () => {
      for (const finish of waiting.splice(0)) finish();
    },
    restore: () => {
      fsCjs.fdatasync = real;
      syncBuiltinESMExports();
    },
  };
  fsCjs.fdatasync = (fd: number, cb: FlushCallback): void => {
    probe.calls++;
    probe.fds.push(fd);
    probe.inFlight++;
    probe.maxInFlight = Math.max(probe.maxInFlight, probe.inFlight);
    const fail = probe.failNext;
    probe.failNext = null;
    real(fd, (err) => {
      const finish = (): void => {
        probe.inFlight--;
        cb(fail ?? err);
      };
      if (probe.hold) waiting.push(finish);
      else finish();
    });
  };
  syncBuiltinESMExports();
  return probe;
}

interface Tracked<T> {
  state: 'pending' | 'resolved' | 'rejected';
  value?: T;
  reason?: unknown;
  promise: Promise<void>;
}

function track<T>(p: Promise<T>, onSettle?: () => void): Tracked<T> {
  const t: Tracked<T> = { state: 'pending', promise: Promise.resolve() };
  t.promise = p.then(
    (value) => {
      t.state = 'resolved';
      t.value = value;
      onSettle?.();
    },
    (reason: unknown) => {
      t.state = 'rejected';
      t.reason = reason;
      onSettle?.();
    },
  );
  return t;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Lets timers, immediates and promise jobs run for a while. */
const settleAWhile = (): Promise<void> => sleep(20);

function fdsInto(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) out.push(target);
    } catch {
      // the fd of readdir itself, gone already
    }
  }
  return out;
}

const fdCount = (): number => readdirSync('/proc/self/fd').length;

describe('GroupCommitter WAL flush', () => {
  let dir: string;
  let path: string;
  let db: Db;
  let reader: Db | null;
  let probe: FlushProbe;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-gcf-'));
    path = join(dir, 'test.db');
    db = openDatabase(path, SCHEMA);
    reader = new Database(path, { readonly: true });
    probe = probeFdatasync();
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    probe.hold = false;
    probe.release();
    probe.restore();
    reader?.close();
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const committed = (): string[] =>
    (
      (reader ?? db).prepare('SELECT v FROM items ORDER BY id').all() as {
        v: string;
      }[]
    ).map((r) => r.v);

  const insert = (v: string) => (): number =>
    Number(db.prepare('INSERT INTO items (v) VALUES (?)').run(v).lastInsertRowid);

  it('resolves a caller only after the fdatasync of the WAL that covers its batch', async () => {
    const gc = new GroupCommitter(db, 1);
    probe.hold = true;
    const w = track(gc.write(insert('a')));
    await until(() => probe.held() === 1, 'the flush');
    // Committed (another connection sees it) but not yet flushed: not acknowledged.
    expect(committed()).toEqual(['a']);
    await settleAWhile();
    expect(w.state).toBe('pending');
    // The flushed file is the database's WAL, and the connection is back to FULL for others.
    expect(readlinkSync(`/proc/self/fd/${probe.fds[0]}`)).toBe(`${path}-wal`);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    probe.hold = false;
    probe.release();
    await w.promise;
    expect(w.state).toBe('resolved');
    expect(w.value).toBe(1);
    gc.close();
  });

  it('batches committed during a flush wait for the next one; callers resolve in commit order', async () => {
    // The window never runs out here: each group of writes is committed by flush(), so the batches
    // are known, and all but the first are committed while the first batch's flush is held.
    const gc = new GroupCommitter(db, 60_000);
    probe.hold = true;
    const order: number[] = [];
    const writes: Tracked<number>[] = [];
    for (let g = 0; g < 6; g++) {
      for (let k = 0; k < 5; k++) {
        const i = g * 5 + k;
        writes.push(track(gc.write(insert(`o${i}`)), () => order.push(i)));
        await new Promise((r) => setImmediate(r));
      }
      gc.flush();
      expect(gc.stats.batches).toBe(g + 1);
      if (g === 0) await until(() => probe.held() === 1, 'the first flush');
    }
    expect(committed()).toHaveLength(30);
    await settleAWhile();
    expect(order).toEqual([]);
    // One flush at a time: the first is held, nothing else was started.
    expect(probe.held()).toBe(1);
    expect(probe.calls).toBe(1);

    // The first flush covered only the first batch; the next flush covers the other five.
    probe.release();
    await until(() => order.length === 5, 'the first batch');
    await settleAWhile();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(probe.held()).toBe(1);
    expect(probe.calls).toBe(2);

    probe.hold = false;
    probe.release();
    await Promise.all(writes.map((w) => w.promise));
    expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(writes.every((w) => w.state === 'resolved')).toBe(true);
    expect(probe.maxInFlight).toBe(1);
    gc.close();
  });

  it('with free-running flushes, writes interleaved with setImmediate resolve in call order', async () => {
    const gc = new GroupCommitter(db, 0);
    const order: number[] = [];
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      writes.push(gc.write(insert(`s${i}`)).then(() => void order.push(i)));
      if (i % 3 === 0) await new Promise((r) => setImmediate(r));
      if (i % 50 === 0) await sleep(2);
    }
    await Promise.all(writes);
    expect(order).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect(committed()).toEqual(Array.from({ length: 400 }, (_, i) => `s${i}`));
    expect(gc.stats.batches).toBeGreaterThan(1);
    expect(probe.calls).toBeGreaterThan(0);
    expect(probe.calls).toBeLessThanOrEqual(gc.stats.batches);
    expect(probe.maxInFlight).toBe(1);
    gc.close();
  });

  describe('a failing fdatasync (EIO) stops acknowledging (issue 7 item 5)', () => {
    const eio = (): NodeJS.ErrnoException =>
      Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5 });

    it('rejects the flushed batch with storage_failed, then every later write; says so', async () => {
      const reports: Array<{ kind: string; fatal: boolean }> = [];
      const gc = new GroupCommitter(db, 1, {
        onStorageError: (err, fatal) => reports.push({ kind: err.kind, fatal }),
      });
      await gc.write(insert('ok'));
      expect(gc.health()).toEqual({ writable: true, last_error: null });
      probe.failNext = eio();
      const first = await Promise.allSettled([gc.write(insert('x')), gc.write(insert('y'))]);
      // Committed, but not known to be on disk: nobody may be told it is durable.
      expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      const reason = first[0]?.status === 'rejected' ? first[0].reason : null;
      expect(reason).toBeInstanceOf(HubError);
      expect((reason as HubError).kind).toBe('storage_failed');
      expect((reason as HubError).status).toBe(507);
      expect((reason as HubError).code).toBe(5071);
      expect((reason as HubError).message).toMatch(/EIO/);
      // A flush after a failed one may succeed with the pages already lost: no more acks at all,
      // queued or synchronous, and no more flushes.
      const calls = probe.calls;
      await expect(gc.write(insert('z'))).rejects.toMatchObject({ kind: 'storage_failed' });
      await expect(
        gc.writeStatement(db.prepare<[string]>('INSERT INTO items (v) VALUES (?)'), 'z2'),
      ).rejects.toMatchObject({ kind: 'storage_failed' });
      expect(() => gc.writeNow(insert('now'))).toThrow(HubError);
      expect(probe.calls).toBe(calls);
      expect(committed()).not.toContain('z');
      expect(committed()).not.toContain('now');
      // It says so: health for the hub status, one fatal report for the log.
      const health = gc.health();
      expect(health.writable).toBe(false);
      expect(health.last_error).toMatchObject({ code: 5071 });
      expect(reports).toEqual([{ kind: 'storage_failed', fatal: true }]);
      gc.close();
      expect(unhandled).toEqual([]);
    });

    it('batches committed while the failing flush ran are rejected too, never acknowledged', async () => {
      const gc = new GroupCommitter(db, 60_000);
      probe.hold = true;
      probe.failNext = eio();
      const b1 = track(gc.write(insert('a')));
      gc.flush();
      await until(() => probe.held() === 1, 'the first flush');
      const b2 = track(gc.write(insert('b')));
      gc.flush();
      const b3 = track(gc.write(insert('c')));
      // b2 is committed and waits for the next flush; b3 is still queued.
      expect(gc.stats.batches).toBe(2);
      probe.hold = false;
      probe.release();
      await Promise.all([b1.promise, b2.promise, b3.promise]);
      expect([b1.state, b2.state, b3.state]).toEqual(['rejected', 'rejected', 'rejected']);
      for (const b of [b1, b2, b3]) expect(b.reason).toMatchObject({ kind: 'storage_failed' });
      // Only the failing flush ran: a flush after it would prove nothing.
      expect(probe.calls).toBe(1);
      gc.close();
      await until(() => probe.inFlight === 0, 'the flushes');
      expect(unhandled).toEqual([]);
    });

    it('an injected flush function is what the committer calls (no fs wrapping needed)', async () => {
      const fds: number[] = [];
      const gc = new GroupCommitter(db, 1, {
        fdatasync: (fd, cb) => {
          fds.push(fd);
          setImmediate(() => cb(eio()));
        },
      });
      await expect(gc.write(insert('a'))).rejects.toMatchObject({ kind: 'storage_failed' });
      expect(fds).toHaveLength(1);
      expect(readlinkSync(`/proc/self/fd/${fds[0]}`)).toBe(`${path}-wal`);
      // node's own fdatasync was not used.
      expect(probe.calls).toBe(0);
      gc.close();
    });
  });

  it('a write that rolls the whole transaction back fails the batch without committing the rest', async () => {
    db.exec(`CREATE TRIGGER veto BEFORE INSERT ON items WHEN NEW.v = 'veto'
             BEGIN SELECT RAISE(ROLLBACK, 'vetoed'); END`);
    const gc = new GroupCommitter(db, 1);
    const stmt = db.prepare<[string]>('INSERT INTO items (v) VALUES (?)');
    const results = await Promise.allSettled([
      gc.write(insert('before')),
      gc.writeStatement(stmt, 'veto'),
      gc.write(insert('after')),
      gc.writeStatement(stmt, 'after2'),
    ]);
    // RAISE(ROLLBACK) ends the batch's transaction, not only its own statement. Whatever is
    // reported, no caller may be told "failed" while its row is committed, nor the reverse.
    const rows = new Set(committed());
    const names = ['before', 'veto', 'after', 'after2'];
    results.forEach((r, i) => {
      expect(`${names[i]}: ${r.status}`).toBe(
        `${names[i]}: ${rows.has(names[i] ?? '') ? 'fulfilled' : 'rejected'}`,
      );
    });
    expect(results[1]?.status === 'rejected' && String(results[1].reason)).toMatch(/vetoed/);
    expect(db.inTransaction).toBe(false);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // The committer keeps working afterwards.
    await expect(gc.writeStatement(stmt, 'later')).resolves.toBeUndefined();
    expect(committed()).toContain('later');
    gc.close();
  });

  describe('close() while a flush is running', () => {
    it('settles every pending promise in order, closes the WAL fd, then rejects new writes', async () => {
      reader?.close();
      reader = null;
      // Warm up what the first flush sets up once (libuv pool), then count.
      const warm = new GroupCommitter(db, 1);
      await warm.write(insert('warm'));
      warm.close();
      db.close();
      const fdsBefore = fdCount();
      expect(fdsInto(dir)).toEqual([]);

      db = openDatabase(path, SCHEMA);
      const gc = new GroupCommitter(db, 1);
      const order: string[] = [];
      probe.hold = true;
      const b1 = ['a', 'b'].map((v) => track(gc.write(insert(v)), () => order.push(v)));
      await until(() => probe.held() === 1, 'the first flush');
      // Queued when close() comes (the window has not run out): the last batch.
      const b2 = [
        track(gc.write(insert('c')), () => order.push('c')),
        track(gc.write(insert('a')), () => order.push('dup')), // UNIQUE: rejects alone
        track(gc.write(insert('d')), () => order.push('d')),
      ];
      gc.close();
      const after = track(gc.write(insert('after')));
      const afterStmt = track(
        gc.writeStatement(db.prepare<[string]>('INSERT INTO items (v) VALUES (?)'), 'after2'),
      );
      await settleAWhile();
      expect(after.state).toBe('rejected');
      expect(String(after.reason)).toMatch(/store is closed/);
      expect(afterStmt.state).toBe('rejected');
      expect(String(afterStmt.reason)).toMatch(/store is closed/);

      probe.hold = false;
      probe.release();
      await Promise.all([...b1, ...b2].map((w) => w.promise));
      expect(b1.map((w) => w.state)).toEqual(['resolved', 'resolved']);
      expect(b2.map((w) => w.state)).toEqual(['resolved', 'rejected', 'resolved']);
      expect(String(b2[1]?.reason)).toMatch(/UNIQUE/);
      expect(order).toEqual(['a', 'b', 'c', 'dup', 'd']);

      // The committer's WAL fd is closed once its last flush is done; the database's own on close.
      await until(() => probe.inFlight === 0, 'the flushes');
      db.close();
      expect(fdsInto(dir)).toEqual([]);
      expect(fdCount()).toBe(fdsBefore);
      expect(unhandled).toEqual([]);

      db = openDatabase(path, SCHEMA);
      expect(committed()).toEqual(['warm', 'a', 'b', 'c', 'd']);
    });

    it('a last batch that writes nothing does not acknowledge earlier batches before their flush', async () => {
      const gc = new GroupCommitter(db, 1);
      probe.hold = true;
      const b1 = track(gc.write(insert('a')));
      await until(() => probe.held() === 1, 'the first flush');
      // The closing batch has one write and it fails: its COMMIT writes (and syncs) nothing.
      const b2 = track(
        gc.write(() => {
          throw new Error('nothing to write');
        }),
      );
      gc.close();
      await settleAWhile();
      expect(b1.state).toBe('pending');
      probe.hold = false;
      probe.release();
      await Promise.all([b1.promise, b2.promise]);
      expect(b1.state).toBe('resolved');
      expect(b2.state).toBe('rejected');
      expect(String(b2.reason)).toMatch(/nothing to write/);
      expect(unhandled).toEqual([]);
    });

    it('closing the database right after the committer (as the store does) still settles and keeps the rows', async () => {
      reader?.close();
      reader = null;
      const gc = new GroupCommitter(db, 1);
      probe.hold = true;
      const b1 = track(gc.write(insert('a')));
      await until(() => probe.held() === 1, 'the flush');
      gc.close(); // nothing queued: only the running flush is left
      db.close();
      await expect(gc.write(() => 1)).rejects.toThrow('store is closed');
      probe.hold = false;
      probe.release();
      await b1.promise;
      expect(b1.state).toBe('resolved');
      await until(() => probe.inFlight === 0, 'the flush');
      expect(fdsInto(dir)).toEqual([]);
      db = openDatabase(path, SCHEMA);
      expect(committed()).toEqual(['a']);
      expect(unhandled).toEqual([]);
    });
  });

  describe('fallback to FULL', () => {
    it('an in-memory database commits with FULL in place, without fdatasync', async () => {
      const mem = new Database(':memory:');
      try {
        mem.exec(SCHEMA[0] ?? '');
        const gc = new GroupCommitter(mem, 1);
        const ins = mem.prepare<[string]>('INSERT INTO items (v) VALUES (?)');
        const order: number[] = [];
        const results = await Promise.allSettled([
          gc.writeStatement(ins, 'm1').then(() => order.push(1)),
          gc.writeStatement(ins, 'm1').then(() => order.push(2)), // UNIQUE
          gc.write(() => Number(ins.run('m2').lastInsertRowid)).then(() => order.push(3)),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(order).toEqual([1, 3]);
        expect(mem.prepare('SELECT v FROM items ORDER BY id').pluck().all()).toEqual(['m1', 'm2']);
        expect(probe.calls).toBe(0);
        gc.close();
        await expect(gc.writeStatement(ins, 'm3')).rejects.toThrow('store is closed');
      } finally {
        mem.close();
      }
    });

    it('a database not in WAL mode commits with FULL, without fdatasync', async () => {
      const plainPath = join(dir, 'plain.db');
      const plain = new Database(plainPath);
      try {
        plain.pragma('journal_mode = DELETE');
        plain.exec(SCHEMA[0] ?? '');
        const gc = new GroupCommitter(plain, 1);
        const ins = plain.prepare<[string]>('INSERT INTO items (v) VALUES (?)');
        await Promise.all(['p1', 'p2', 'p3'].map((v) => gc.writeStatement(ins, v)));
        expect(probe.calls).toBe(0);
        gc.close();
      } finally {
        plain.close();
      }
      const again = new Database(plainPath, { readonly: true });
      expect(again.prepare('SELECT COUNT(*) FROM items').pluck().get()).toBe(3);
      again.close();
    });

    it('a WAL file removed while a flush runs: later batches commit with FULL, callers keep commit order', async () => {
      reader?.close();
      reader = null;
      const gc = new GroupCommitter(db, 1);
      const order: string[] = [];
      probe.hold = true;
      const b1 = track(gc.write(insert('a')), () => order.push('a'));
      await until(() => probe.held() === 1, 'the flush');
      rmSync(`${path}-wal`);
      const b2 = track(gc.write(insert('b')), () => order.push('b'));
      await until(() => gc.stats.batches === 2, 'the second batch');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      await settleAWhile();
      // b2 is durable by its own FULL commit, but may not be acknowledged ahead of b1.
      expect(b1.state).toBe('pending');
      expect(b2.state).toBe('pending');
      probe.hold = false;
      probe.release();
      await Promise.all([b1.promise, b2.promise]);
      expect(order).toEqual(['a', 'b']);
      const callsBefore = probe.calls;
      // No WAL to flush any more: the next batches commit with FULL and resolve at once.
      await expect(gc.write(insert('c'))).resolves.toBe(3);
      expect(probe.calls).toBe(callsBefore);
      gc.close();
      await until(() => probe.inFlight === 0, 'the flushes');
      db.close();
      expect(fdsInto(dir)).toEqual([]);
      db = openDatabase(path, SCHEMA);
      expect(committed()).toEqual(['a', 'b', 'c']);
    });

    it('a WAL file replaced by another file is not flushed in its place', async () => {
      reader?.close();
      reader = null;
      const gc = new GroupCommitter(db, 1);
      await gc.write(insert('a'));
      const calls = probe.calls;
      writeFileSync(`${path}-wal.new`, '');
      renameSync(`${path}-wal.new`, `${path}-wal`);
      await Promise.all([gc.write(insert('b')), gc.write(insert('c'))]);
      expect(probe.calls).toBe(calls);
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      gc.close();
      db.close();
      expect(fdsInto(dir)).toEqual([]);
      db = openDatabase(path, SCHEMA);
      expect(committed()).toEqual(['a', 'b', 'c']);
    });
  });

  describe('WAL checkpoints between batches', () => {
    it('after wal_checkpoint(TRUNCATE) and (RESTART) the same WAL file is flushed and writes resolve', async () => {
      const gc = new GroupCommitter(db, 1);
      await Promise.all(['a', 'b'].map((v) => gc.write(insert(v))));
      const fd = probe.fds[0];
      expect(fd).toBeDefined();
      db.pragma('wal_checkpoint(TRUNCATE)');
      expect(statSync(`${path}-wal`).size).toBe(0);
      const calls = probe.calls;
      await Promise.all(['c', 'd'].map((v) => gc.write(insert(v))));
      expect(probe.calls).toBeGreaterThan(calls);
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
      db.pragma('wal_checkpoint(RESTART)');
      await gc.write(insert('e'));
      expect(new Set(probe.fds)).toEqual(new Set([fd]));
      expect(committed()).toEqual(['a', 'b', 'c', 'd', 'e']);
      gc.close();
    });

    it('a checkpoint while a flush is running does not lose or reorder acknowledgements', async () => {
      const gc = new GroupCommitter(db, 1);
      const order: string[] = [];
      probe.hold = true;
      const b1 = track(gc.write(insert('a')), () => order.push('a'));
      await until(() => probe.held() === 1, 'the flush');
      reader?.close();
      reader = null;
      db.pragma('wal_checkpoint(TRUNCATE)');
      const b2 = track(gc.write(insert('b')), () => order.push('b'));
      await until(() => gc.stats.batches === 2, 'the second batch');
      await settleAWhile();
      expect([b1.state, b2.state]).toEqual(['pending', 'pending']);
      probe.hold = false;
      probe.release();
      await Promise.all([b1.promise, b2.promise]);
      expect(order).toEqual(['a', 'b']);
      await gc.write(insert('c'));
      gc.close();
      db.close();
      db = openDatabase(path, SCHEMA);
      expect(committed()).toEqual(['a', 'b', 'c']);
    });
  });
});
