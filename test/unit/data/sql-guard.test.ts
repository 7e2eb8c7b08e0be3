/**
 * The SQL API's statement guard (src/main/data/sql-guard.ts): everything that reaches outside the
 * account database or weakens it is refused, however it is spelled (case, comments, quoting, a
 * second statement, a schema prefix, the table-valued pragma functions); ordinary SQL passes.
 */
import { describe, expect, it } from 'vitest';
import { HubError } from '../../../src/shared/errors';
import { checkSql, tokenize } from '../../../src/main/data/sql-guard';

function refused(sql: string): boolean {
  try {
    checkSql(sql);
    return false;
  } catch (err) {
    if (err instanceof HubError && err.kind === 'sql_refused') return true;
    throw err;
  }
}

describe('checkSql', () => {
  it.each([
    "ATTACH DATABASE '/etc/passwd' AS x",
    "attach '/tmp/x.db' as x",
    "  /* hi */ AtTaCh '/tmp/x.db' AS x",
    "SELECT 1; ATTACH '/tmp/x.db' AS x",
    "SELECT 1;--\nATTACH '/tmp/x.db' AS x",
    'DETACH x',
    "VACUUM INTO '/tmp/copy.db'",
    "vacuum main into '/tmp/copy.db'",
    "VACUUM/**/INTO'/tmp/copy.db'",
    "SELECT load_extension('/tmp/evil.so')",
    'SELECT "load_extension"(\'/tmp/evil.so\')',
    "SELECT fts3_tokenizer('simple', x'00')",
    "SELECT writefile('/tmp/x', 'y')",
    'PRAGMA synchronous = OFF',
    'PRAGMA synchronous=0',
    'pragma journal_mode = delete',
    'PRAGMA main.journal_mode = MEMORY',
    'PRAGMA "main".synchronous = OFF',
    'PRAGMA temp.user_version',
    'PRAGMA locking_mode = EXCLUSIVE',
    "PRAGMA temp_store_directory = '/tmp'",
    'PRAGMA writable_schema = ON',
    'PRAGMA mmap_size = 1000000000',
    'PRAGMA cache_size = 1000000000',
    'PRAGMA user_version = 7',
    'PRAGMA wal_checkpoint(TRUNCATE)',
    'PRAGMA busy_timeout = 100000',
    'PRAGMA database_list',
    'PRAGMA table_info = data',
    'EXPLAIN PRAGMA journal_mode = OFF',
    'SELECT 1; PRAGMA [journal_mode]=off',
    'SELECT * FROM pragma_database_list',
    'SELECT * FROM "PRAGMA_database_list"',
    "SELECT * FROM pragma_journal_mode('off')",
    'SELECT * FROM main.pragma_mmap_size',
    'BEGIN',
    'begin immediate',
    'SELECT 1; COMMIT',
    'SAVEPOINT a',
    'ROLLBACK',
    'END TRANSACTION',
    'CREATE TRIGGER t AFTER INSERT ON data BEGIN SELECT 1; END',
    'create temp trigger t after insert on data begin select 1; end',
  ])('refuses %s', (sql) => {
    expect(refused(sql)).toBe(true);
  });

  it.each([
    'SELECT * FROM data',
    "SELECT 'ATTACH' AS a, 'PRAGMA synchronous=off' AS b -- ATTACH",
    "SELECT * FROM data WHERE topic = 'vacuum into' /* attach */",
    'SELECT "attach" FROM (SELECT 1 AS "attach")',
    'SELECT count(*) FROM data GROUP BY device_id',
    "INSERT INTO data (device_id, topic, message) VALUES ('a', 'b', 'c')",
    'CREATE TABLE readings (t TEXT, v REAL)',
    'CREATE INDEX r1 ON readings (t)',
    'DELETE FROM data WHERE timestamp < ?',
    'VACUUM',
    'PRAGMA table_info(data)',
    'PRAGMA main.table_info(data)',
    'PRAGMA index_list(data)',
    'PRAGMA user_version',
    'PRAGMA journal_mode',
    'PRAGMA integrity_check',
    "SELECT * FROM pragma_table_info('data')",
    'SELECT name FROM pragma_table_list',
    'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c',
    "SELECT CASE WHEN 1 THEN 'a' END",
    "SELECT json_extract(message, '$.temp') FROM data",
  ])('allows %s', (sql) => {
    expect(refused(sql)).toBe(false);
  });
});

describe('tokenize', () => {
  it('keeps strings, quoted names and comments apart from words', () => {
    const t = tokenize('SELECT \'it\'\'s\', "a""b", [c d], `e` -- x\n/* y */ FROM t');
    expect(t.map((x) => `${x.kind}:${x.text}`)).toEqual([
      'word:SELECT',
      "string:'it''s'",
      'punct:,',
      'quoted:A"B',
      'punct:,',
      'quoted:C D',
      'punct:,',
      'quoted:E',
      'word:FROM',
      'word:T',
    ]);
  });
});
