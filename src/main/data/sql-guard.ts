/**
 * What a statement sent to the SQL API may do (PROTOCOL.md 4, 5: "SQL clients can do anything in
 * [the account database] and nothing outside it"). better-sqlite3 exposes no authorizer
 * (sqlite3_set_authorizer), so the text is tokenized the way SQLite's own tokenizer splits it
 * (comments, strings, the four identifier quotings, any case) and refused before it is prepared:
 * some pragmas act while a statement is prepared, so nothing may reach SQLite first.
 *
 * Refused, anywhere in the text (a second statement, an EXPLAIN, a trigger body):
 * - `ATTACH` / `DETACH`: they open other files;
 * - `VACUUM ... INTO`: writes a copy of the database to any path;
 * - `load_extension` (the SQL function is off in SQLite too), `fts3_tokenizer` (function
 *   pointers), `readfile` / `writefile` / `edit` (shell functions, should a build carry them);
 * - `PRAGMA` other than the harmless reads of READ_PRAGMAS, with or without a `main.` schema, and
 *   the same names as table-valued functions (`SELECT * FROM pragma_journal_mode`);
 * - transaction control (`BEGIN`, `COMMIT`, `END`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`): every
 *   statement commits on its own, so a client can never leave the write lock held between calls;
 * - `CREATE TRIGGER`: a trigger runs inside the hub's own writes (every `DB.Save` row), on its
 *   event loop, out of reach of the SQL deadline.
 * The text is refused whole: false positives (a column named `attach`, quoted) are the price of a
 * scan that cannot be fooled by quoting or comments.
 */
import { HubError } from '../../shared/errors';

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct' | 'param';

export interface Token {
  kind: TokenKind;
  /** Upper-cased for words and quoted identifiers (their content), raw otherwise. */
  text: string;
}

/** Pragmas that only read, with no argument (`PRAGMA user_version`, never `= 5`). */
const READ_PRAGMAS = new Set([
  'APPLICATION_ID',
  'AUTO_VACUUM',
  'CACHE_SIZE',
  'COLLATION_LIST',
  'COMPILE_OPTIONS',
  'DATA_VERSION',
  'ENCODING',
  'FOREIGN_KEYS',
  'FREELIST_COUNT',
  'FUNCTION_LIST',
  'INTEGRITY_CHECK',
  'JOURNAL_MODE',
  'MODULE_LIST',
  'PAGE_COUNT',
  'PAGE_SIZE',
  'PRAGMA_LIST',
  'QUICK_CHECK',
  'SCHEMA_VERSION',
  'SYNCHRONOUS',
  'TABLE_LIST',
  'USER_VERSION',
]);

/** Pragmas that take a table or index name (or a row limit) as their argument and only read. */
const ARG_PRAGMAS = new Set([
  'FOREIGN_KEY_CHECK',
  'FOREIGN_KEY_LIST',
  'INDEX_INFO',
  'INDEX_LIST',
  'INDEX_XINFO',
  'INTEGRITY_CHECK',
  'QUICK_CHECK',
  'TABLE_INFO',
  'TABLE_LIST',
  'TABLE_XINFO',
]);

/** Functions that reach outside the database file or into the process. */
const REFUSED_FUNCTIONS = new Set([
  'LOAD_EXTENSION',
  'FTS3_TOKENIZER',
  'READFILE',
  'WRITEFILE',
  'EDIT',
]);

const TRANSACTION_WORDS = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'SAVEPOINT', 'RELEASE']);

// SQLite treats every byte >= 0x80 as an identifier character (tokenize.c).
const isIdStart = (c: string): boolean => /[A-Za-z_]/.test(c) || c.charCodeAt(0) >= 0x80;
const isIdChar = (c: string): boolean => /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80;

/** Splits `sql` as SQLite's tokenizer does; comments and whitespace are dropped. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  /** Index after the closing `close` (doubled closes are escapes), or the end of the text. */
  const quoted = (start: number, close: string, doubles: boolean): number => {
    let j = start;
    for (;;) {
      const k = sql.indexOf(close, j);
      if (k < 0) return n;
      if (doubles && sql[k + 1] === close) {
        j = k + 2;
        continue;
      }
      return k + 1;
    }
  };
  while (i < n) {
    const c = sql.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const k = sql.indexOf('\n', i);
      i = k < 0 ? n : k + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const k = sql.indexOf('*/', i + 2);
      i = k < 0 ? n : k + 2;
    } else if (c === "'") {
      const end = quoted(i + 1, "'", true);
      out.push({ kind: 'string', text: sql.slice(i, end) });
      i = end;
    } else if (c === '"' || c === '`') {
      const end = quoted(i + 1, c, true);
      const inner = sql.slice(i + 1, end - 1).replaceAll(c + c, c);
      out.push({ kind: 'quoted', text: inner.toUpperCase() });
      i = end;
    } else if (c === '[') {
      const end = quoted(i + 1, ']', false);
      out.push({ kind: 'quoted', text: sql.slice(i + 1, end - 1).toUpperCase() });
      i = end;
    } else if ((c === 'x' || c === 'X') && sql[i + 1] === "'") {
      const end = quoted(i + 2, "'", false);
      out.push({ kind: 'string', text: sql.slice(i, end) });
      i = end;
    } else if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(sql.charAt(j))) j++;
      out.push({ kind: 'word', text: sql.slice(i, j).toUpperCase() });
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(sql.charAt(j))) j++;
      out.push({ kind: 'number', text: sql.slice(i, j) });
      i = j;
    } else if (c === '?' || c === ':' || c === '@' || c === '$' || c === '#') {
      let j = i + 1;
      while (j < n && isIdChar(sql.charAt(j))) j++;
      out.push({ kind: 'param', text: sql.slice(i, j) });
      i = j;
    } else {
      out.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return out;
}

const refuse = (what: string): HubError =>
  new HubError('sql_refused', `${what} is not allowed through the SQL API`);

/** A name as SQLite would match it: a word or a quoted identifier. */
const nameOf = (t: Token | undefined): string | null =>
  t !== undefined && (t.kind === 'word' || t.kind === 'quoted') ? t.text : null;

/** Checks one `PRAGMA` starting at tokens[i] (the PRAGMA word). */
function checkPragma(tokens: readonly Token[], i: number): void {
  let j = i + 1;
  let name = nameOf(tokens[j]);
  if (name !== null && tokens[j + 1]?.text === '.') {
    if (name !== 'MAIN') throw refuse(`PRAGMA on schema ${name.toLowerCase()}`);
    j += 2;
    name = nameOf(tokens[j]);
  }
  if (name === null) throw refuse('this PRAGMA');
  const next = tokens[j + 1];
  const hasArg = next !== undefined && (next.text === '=' || next.text === '(');
  const allowed = hasArg ? ARG_PRAGMAS.has(name) && next.text === '(' : READ_PRAGMAS.has(name);
  if (!allowed) {
    throw refuse(`PRAGMA ${name.toLowerCase()}${hasArg ? ' with an argument' : ''}`);
  }
}

/** Throws `sql_refused` (403) when `sql` may not run through the SQL API; see the file comment. */
export function checkSql(sql: string): void {
  const tokens = tokenize(sql);
  let statementStart = true;
  tokens.forEach((t, i) => {
    const atStart = statementStart;
    statementStart = t.text === ';' && t.kind === 'punct';
    const name = nameOf(t);
    if (name === null) return;
    if (t.kind === 'word') {
      if (name === 'ATTACH' || name === 'DETACH') throw refuse(name);
      if (name === 'PRAGMA') checkPragma(tokens, i);
      if (
        name === 'VACUUM' &&
        tokens.slice(i + 1).some((u) => u.kind === 'word' && u.text === 'INTO')
      ) {
        throw refuse('VACUUM INTO');
      }
      if (
        name === 'TRIGGER' &&
        tokens.slice(0, i).some((u) => u.kind === 'word' && u.text === 'CREATE')
      ) {
        throw refuse('CREATE TRIGGER (triggers run inside the hub’s own writes)');
      }
      if (atStart && TRANSACTION_WORDS.has(name)) {
        throw refuse(`${name} (each statement is its own transaction)`);
      }
    }
    if (REFUSED_FUNCTIONS.has(name)) throw refuse(`the function ${name.toLowerCase()}`);
    if (name.startsWith('PRAGMA_')) {
      const pragma = name.slice('PRAGMA_'.length);
      const hasArgs = tokens[i + 1]?.text === '(' && tokens[i + 2]?.text !== ')';
      const ok = hasArgs
        ? ARG_PRAGMAS.has(pragma)
        : READ_PRAGMAS.has(pragma) || ARG_PRAGMAS.has(pragma);
      if (!ok) throw refuse(`the table-valued function ${name.toLowerCase()}`);
    }
  });
}
