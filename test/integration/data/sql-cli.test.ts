/**
 * `fleetbench sql` and `fleetbench db download` against a running hub (the real command as a child
 * process): table, JSON and CSV output, parameters, a refusal exiting 1, and a downloaded snapshot
 * that opens as SQLite.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli-runner';
import { startTestHub, type TestHub } from '../../support/hub-harness';
import { formatCsv, formatTable, parseParam } from '../../../src/main/cli/sql-cli';

let t: TestHub | null = null;
let dir: string | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('sql-cli formatting', () => {
  it('prints tables, CSV and parameters as documented', () => {
    const r = {
      columns: ['id', 'msg'],
      rows: [
        [1, 'a,"b"'],
        [2, null],
      ],
      truncated: true,
    };
    expect(formatTable(r)).toBe(
      'id | msg\n---+------\n1  | a,"b"\n2  | NULL\n(2 rows, truncated by the hub)\n',
    );
    expect(formatCsv(r)).toBe('id,msg\r\n1,"a,""b"""\r\n2,\r\n');
    expect(formatTable({ columns: [], rows: [], changes: 3 })).toBe('3 row(s) changed\n');
    expect([parseParam('42'), parseParam('null'), parseParam('"7"'), parseParam('abc')]).toEqual([
      42,
      null,
      '7',
      'abc',
    ]);
  });
});

describe('fleetbench sql / db download', () => {
  it('runs statements with every output form and downloads the database', async () => {
    t = await startTestHub();
    const hubArgs = ['--hub', t.http, '--key', t.key];
    const ins = await runCli([
      'sql',
      "INSERT INTO data (device_id, topic, message) VALUES (?, 't', ?)",
      '--param',
      'cli-dev',
      '--param',
      '{"v":1}',
      ...hubArgs,
    ]);
    expect(ins.code, ins.stderr).toBe(0);
    expect(ins.stdout).toBe('1 row(s) changed\n');

    const q = "SELECT device_id, message FROM data WHERE topic = 't'";
    const table = await runCli(['sql', q, ...hubArgs]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('cli-dev   | {"v":1}');
    const json = await runCli(['sql', q, '--json', ...hubArgs]);
    expect(JSON.parse(json.stdout)).toEqual({
      columns: ['device_id', 'message'],
      rows: [['cli-dev', '{"v":1}']],
    });
    const csv = await runCli(['sql', q, '--csv', ...hubArgs]);
    expect(csv.stdout).toBe('device_id,message\r\ncli-dev,"{""v"":1}"\r\n');

    const refused = await runCli(['sql', "ATTACH 'x.db' AS x", ...hubArgs]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('403');
    expect(refused.stderr).toContain('4038');

    dir = mkdtempSync(join(tmpdir(), 'fb-sql-cli-'));
    const file = join(dir, 'account.sqlite');
    const dl = await runCli(['db', 'download', file, ...hubArgs]);
    expect(dl.code, dl.stderr).toBe(0);
    expect(dl.stderr).toContain(`saved ${file}`);
    expect(existsSync(`${file}.part`)).toBe(false);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT device_id FROM data WHERE topic = 't'").pluck().all()).toEqual([
      'cli-dev',
    ]);
    db.close();
  }, 90_000);
});
