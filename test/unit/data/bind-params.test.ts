import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { bindParams, bindValue } from '../../../src/main/data/bind-params';
import { StatementCache } from '../../../src/main/data/statement-cache';

describe('DB.Store parameter binding (PROTOCOL.md 5)', () => {
  it('maps JSON values to SQLite values', () => {
    expect(bindValue(1.5)).toBe(1.5);
    expect(bindValue(42)).toBe(42n);
    expect(bindValue(2 ** 60)).toBe(2 ** 60); // not a safe integer: stays a REAL
    expect(bindValue('s')).toBe('s');
    expect(bindValue(null)).toBe(null);
    expect(bindValue(true)).toBe(1n);
    expect(bindValue(false)).toBe(0n);
    expect(bindValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(bindValue([1, 'x'])).toBe('[1,"x"]');
    expect(bindParams([1, true, { t: 2 }])).toEqual([1n, 1n, '{"t":2}']);
  });

  it('binds positionally into a real statement, never splicing', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (a, b, c, d)');
    const stmt = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)');
    stmt.run(...bindParams(["x'); DROP TABLE t; --", 42, false, { k: 'v' }]));
    expect(db.prepare('SELECT * FROM t').all()).toEqual([
      { a: "x'); DROP TABLE t; --", b: 42, c: 0, d: '{"k":"v"}' },
    ]);
    // Whole numbers are INTEGERs: a TEXT column keeps "42", not "42.0".
    db.exec('CREATE TABLE s (v TEXT)');
    db.prepare('INSERT INTO s VALUES (?)').run(...bindParams([42]));
    expect(db.prepare('SELECT v, typeof(v) AS ty FROM s').get()).toEqual({ v: '42', ty: 'text' });
    db.close();
  });
});

describe('statement cache', () => {
  it('prepares each text once and evicts the least recently used past its size', () => {
    const prepared: string[] = [];
    const cache = new StatementCache(2, (sql) => {
      prepared.push(sql);
      return { sql };
    });
    cache.get('a');
    cache.get('b');
    cache.get('a'); // hit: a is now the most recent
    cache.get('c'); // evicts b
    expect(cache.size).toBe(2);
    cache.get('a');
    cache.get('b'); // prepared again
    expect(prepared).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not cache a text that fails to prepare', () => {
    const cache = new StatementCache(4, (sql) => {
      if (sql === 'bad') throw new Error('syntax error');
      return sql;
    });
    expect(() => cache.get('bad')).toThrow(/syntax/);
    expect(cache.size).toBe(0);
  });
});
