/**
 * `fleetbench sql "<query>"` and `fleetbench db download <file>` (issue 9, interfaces): the SQL
 * API of a running hub (PROTOCOL.md 4) with the hub options of `ota`. `sql` prints a table (or
 * `--json`, `--csv`), `?` parameters from repeated `--param` (JSON values; anything else is text).
 * `db download` streams the snapshot to a temporary file next to the target, with progress on
 * stderr, and renames it into place only when complete.
 *
 * Exit codes: 0 success, 1 the hub refused or could not be reached, 2 usage.
 */
import type { Command } from 'commander';
import Type from 'typebox';
import { isValid } from '../validate';
import { CliError } from './cli-errors';
import { downloadFromHub } from './hub-download';
import { addHubOptions, hubJson, resolveHub, type Hub, type HubCliOptions } from './hub-client';

const ResultShape = Type.Object({
  columns: Type.Array(Type.String()),
  rows: Type.Array(Type.Array(Type.Unknown())),
  truncated: Type.Optional(Type.Boolean()),
  changes: Type.Optional(Type.Number()),
});
export interface SqlCliResult {
  columns: string[];
  rows: unknown[][];
  truncated?: boolean;
  changes?: number;
}

/** A `--param` value: JSON when it parses as a scalar (`42`, `null`, `"x"`), else the text itself. */
export function parseParam(text: string): string | number | boolean | null {
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) {
      return v as string | number | boolean | null;
    }
  } catch {
    // plain text
  }
  return text;
}

const show = (v: unknown): string =>
  v === null || v === undefined ? 'NULL' : typeof v === 'string' ? v : JSON.stringify(v);

/** An aligned text table with a header rule; long cells are cut to `maxCell` characters. */
export function formatTable(r: SqlCliResult, maxCell = 60): string {
  if (r.columns.length === 0) return `${r.changes ?? 0} row(s) changed\n`;
  const cut = (s: string): string =>
    (s.length > maxCell ? `${s.slice(0, maxCell - 1)}…` : s).replace(/[\r\n\t]/g, ' ');
  const cells = r.rows.map((row) => row.map((v) => cut(show(v))));
  const widths = r.columns.map((c, i) =>
    Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)),
  );
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  const out = [line(r.columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)];
  const n = r.rows.length;
  out.push(`(${n} row${n === 1 ? '' : 's'}${r.truncated ? ', truncated by the hub' : ''})`);
  return `${out.join('\n')}\n`;
}

/** RFC 4180 CSV: a header line, then the rows; NULL is an empty field. */
export function formatCsv(r: SqlCliResult): string {
  const field = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [r.columns, ...r.rows].map((row) => `${row.map(field).join(',')}\r\n`).join('');
}

export async function runSql(
  hub: Hub,
  query: string,
  params: Array<string | number | boolean | null>,
): Promise<SqlCliResult> {
  const v = await hubJson(hub, 'POST', '/api/v2/sql/exec', {
    query,
    ...(params.length > 0 && { params }),
  });
  if (!isValid(ResultShape, v)) throw new CliError('the hub returned an unexpected SQL result');
  return v;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Streams `GET /api/v2/sql/db` into `file`; returns the bytes written. */
export async function downloadDb(
  hub: Hub,
  file: string,
  progress: (bytes: number, total: number | null) => void,
): Promise<number> {
  return downloadFromHub(hub, 'GET', '/api/v2/sql/db', file, progress);
}

export function registerSqlCommands(program: Command): void {
  addHubOptions(
    program
      .command('sql <query>')
      .description("run one SQL statement on a running hub's account database"),
  )
    .option('--json', 'print the hub answer as JSON')
    .option('--csv', 'print CSV (header line, then rows)')
    .option(
      '--param <value>',
      'a ? parameter, in order (JSON scalar or text); repeat for more',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action(
      async (
        query: string,
        o: HubCliOptions & { json?: boolean; csv?: boolean; param: string[] },
      ) => {
        if (o.json && o.csv) throw new CliError('give --json or --csv, not both', 2);
        const hub = resolveHub(o);
        const r = await runSql(hub, query, o.param.map(parseParam));
        if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else if (o.csv) process.stdout.write(formatCsv(r));
        else process.stdout.write(formatTable(r));
        if (r.truncated && !o.json) {
          process.stderr.write(
            'warning: the result was truncated by the hub (sql.maxRows/maxBytes)\n',
          );
        }
      },
    );

  const db = program.command('db').description("the hub's account database");
  addHubOptions(
    db
      .command('download <file>')
      .description('download a consistent snapshot of the account database (SQLite file)'),
  ).action(async (file: string, o: HubCliOptions) => {
    const hub = resolveHub(o);
    const tty = process.stderr.isTTY === true;
    let shown = 0;
    const bytes = await downloadDb(hub, file, (n, total) => {
      // On a TTY the line is redrawn; elsewhere one line per 10 MB.
      if (tty) {
        const pct = total ? ` (${Math.floor((n / total) * 100)}%)` : '';
        process.stderr.write(`\r${mb(n)}${total ? ` / ${mb(total)}` : ''}${pct}`);
      } else if (n - shown >= 10 * 1024 * 1024) {
        shown = n;
        process.stderr.write(`${mb(n)}\n`);
      }
    });
    process.stderr.write(`${tty ? '\n' : ''}saved ${file} (${mb(bytes)})\n`);
  });
}
