/**
 * Durability of group commit with the asynchronous WAL flush (src/main/store/group-commit.ts): what
 * a caller was told is committed is in the database after a crash (SIGKILL of a writer process)
 * and after reopening; failed writes leave nothing behind; checkpoints and a WAL file that goes
 * away do not break later writes. Real SQLite files in temp dirs, a real child process.
 * A SIGKILL leaves the page cache to the kernel, so these pass even without any fsync: the
 * machine-crash view (the WAL cut at the last flush) is durability-mode.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/main/store/database';
import { GroupCommitter } from '../../../src/main/store/group-commit';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WRITER = join(ROOT, 'test/support/group-commit-writer.ts');
const WRITER_SCHEMA = ['CREATE TABLE acked (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)'];
const SCHEMA = ['CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)'];

interface KilledWriter {
  acked: number[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the writer until it has acknowledged `minAcks` writes, then SIGKILLs it mid-stream. */
function runAndKill(
  children: ChildProcess[],
  dbPath: string,
  minAcks: number,
  extraArgs: string[] = [],
): Promise<KilledWriter> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dbPath, ...extraArgs], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let stderr = '';
    let acks = 0;
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer never reached ${minAcks} acks (${acks}):\n${stderr}`));
    }, 12_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      acks += d.split('ack ').length - 1;
      if (!killed && acks >= minAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      // Only whole lines count: a line cut by the kill was not fully printed.
      const lines = out.split('\n').slice(0, -1);
      const acked = lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));
      resolve({ acked, signal, stderr });
    });
  });
}

describe('group commit durability', () => {
  let dir: string;
  let path: string;
  const children: ChildProcess[] = [];
  const dbs: Db[] = [];

  const open = (p: string, schema: readonly string[]): Db => {
    const db = openDatabase(p, schema);
    dbs.push(db);
    return db;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-durable-'));
    path = join(dir, 'test.db');
  });
  afterEach(() => {
    for (const c of children.splice(0))
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const db of dbs.splice(0)) if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['without checkpoints', []],
    ['with wal_checkpoint(TRUNCATE) every 40 acks', ['--checkpoint-every', '40']],
  ])(
    'every write acknowledged before a SIGKILL is in the database (%s)',
    async (_name, args) => {
      const dbPath = join(dir, 'crash.db');
      const run = await runAndKill(children, dbPath, 600, args);
      expect(run.signal).toBe('SIGKILL');
      expect(run.stderr).toBe('');
      expect(run.acked.length).toBeGreaterThanOrEqual(600);
      // Ids are acknowledged in commit order, each once.
      expect(run.acked).toEqual([...run.acked].sort((a, b) => a - b));
      expect(new Set(run.acked).size).toBe(run.acked.length);

      const db = open(dbPath, WRITER_SCHEMA);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const stored = new Set(db.prepare('SELECT id FROM acked').pluck().all() as number[]);
      const missing = run.acked.filter((id) => !stored.has(id));
      expect(missing).toEqual([]);
      // Nothing else half-written: every stored row is whole.
      const bad = db
        .prepare('SELECT COUNT(*) FROM acked WHERE length(payload) <> 300')
        .pluck()
        .get();
      expect(bad).toBe(0);
    },
    20_000,
  );

  it('failing writes and statements reject alone; the others commit and survive reopening', async () => {
    const db = open(path, SCHEMA);
    const gc = new GroupCommitter(db, 5);
    const ins = db.prepare<[string | null]>('INSERT INTO items (v) VALUES (?)');
    await gc.writeStatement(ins, 'taken');
    const results = await Promise.allSettled([
      gc.writeStatement(ins, 'a'),
      gc.writeStatement(ins, 'taken'), // UNIQUE
      gc.write(() => {
        ins.run('half');
        throw new Error('boom after a row');
      }),
      gc.writeStatement(ins, null), // NOT NULL
      gc.write(() => void ins.run('b')),
      gc.write(() => void ins.run('taken')), // UNIQUE inside a SAVEPOINT
      gc.writeStatement(ins, 'c'),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const reasons = results.map((r) => (r.status === 'rejected' ? String(r.reason) : ''));
    expect(reasons[1]).toMatch(/UNIQUE/);
    expect(reasons[2]).toMatch(/boom after a row/);
    expect(reasons[3]).toMatch(/NOT NULL/);
    expect(reasons[5]).toMatch(/UNIQUE/);
    expect(gc.stats.batches).toBe(2);
    gc.close();
    db.close();

    const again = open(path, SCHEMA);
    expect(again.prepare('SELECT v FROM items ORDER BY id').pluck().all()).toEqual([
      'taken',
      'a',
      'b',
      'c',
    ]);
    expect(again.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('checkpointing the WAL between batches does not break later flushes', async () => {
    const db = open(path, SCHEMA);
    const gc = new GroupCommitter(db, 1);
    const ins = db.prepare<[string]>('INSERT INTO items (v) VALUES (?)');
    for (let round = 0; round < 8; round++) {
      await Promise.all(
        Array.from({ length: 25 }, (_, k) => gc.writeStatement(ins, `r${round}-${k}`)),
      );
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
      const mode = round % 2 === 0 ? 'TRUNCATE' : 'RESTART';
      const [result] = db.pragma(`wal_checkpoint(${mode})`) as { busy: number }[];
      expect(result?.busy).toBe(0);
      if (mode === 'TRUNCATE') expect(statSync(`${path}-wal`).size).toBe(0);
    }
    await gc.write(() => void ins.run('last'));
    gc.close();
    db.close();
    const again = open(path, SCHEMA);
    expect(again.prepare('SELECT COUNT(*) FROM items').pluck().get()).toBe(8 * 25 + 1);
  });

  it.each([
    ['removed', (wal: string) => rmSync(wal)],
    [
      'replaced by another file',
      (wal: string) => {
        writeFileSync(`${wal}.new`, 'not a wal');
        renameSync(`${wal}.new`, wal);
      },
    ],
  ])('writes still resolve and persist when the WAL file is %s mid-stream', async (_n, mangle) => {
    const db = open(path, SCHEMA);
    const gc = new GroupCommitter(db, 1);
    const ins = db.prepare<[string]>('INSERT INTO items (v) VALUES (?)');
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      writes.push(gc.writeStatement(ins, `w${i}`));
      if (i === 150) mangle(`${path}-wal`);
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    gc.close();
    db.close();
    const again = open(path, SCHEMA);
    expect(again.prepare('SELECT COUNT(*) FROM items').pluck().get()).toBe(300);
    expect(again.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
