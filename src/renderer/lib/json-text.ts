/**
 * JSON typed into the dashboard (desired shadow, RPC params): parse with a readable error that
 * points at the line and column, since JSON.parse only reports an offset.
 */
import type { Json, JsonObject } from '../../shared/types';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
}

export function parseJson(text: string): ParseResult<Json> {
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch {
    // Engines word (and place) their errors differently; find the spot ourselves.
    const problem = findJsonProblem(text);
    const { line, column } = lineColumn(text, problem.offset);
    return { ok: false, error: `${problem.message} at line ${line}, column ${column}` };
  }
}

/**
 * Where a text stops being JSON, and why. Called only after JSON.parse failed, so it just has to
 * find the first offending character (RFC 8259 grammar).
 */
export function findJsonProblem(text: string): { offset: number; message: string } {
  let i = 0;
  class Stop {
    constructor(
      readonly offset: number,
      readonly message: string,
    ) {}
  }
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (what: string): never => {
    if (i >= text.length) throw new Stop(text.length, `unexpected end of input, expected ${what}`);
    throw new Stop(i, `unexpected ${JSON.stringify(text[i])}, expected ${what}`);
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`"${word}"`);
      i++;
    }
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      const ch = text[i];
      if (ch === undefined) fail('a closing quote');
      else if (ch === '"') {
        i++;
        return;
      } else if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            fail('4 hex digits');
          }
          i += 6;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i += 2;
        else {
          i++;
          fail('an escape character');
        }
      } else if (ch < ' ') fail('a character (control characters must be escaped)');
      else i++;
    }
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '' || m[0] === '-') fail('a value');
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a property name in double quotes');
        string();
        ws();
        if (text[i] !== ':') fail("':'");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("',' or '}'");
      }
    } else if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("',' or ']'");
      }
    } else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail('the end of input');
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, message: e.message };
    throw e;
  }
  return { offset: text.length, message: 'invalid JSON' };
}

export function isJsonObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The desired-state editor accepts an object only (PROTOCOL.md 3: `state.desired` is an object). */
export function parseJsonObject(text: string): ParseResult<JsonObject> {
  const r = parseJson(text);
  if (!r.ok) return r;
  if (!isJsonObject(r.value)) return { ok: false, error: 'must be a JSON object: { ... }' };
  return { ok: true, value: r.value };
}

/**
 * RPC params: empty means "no params"; otherwise any JSON value (Mongoose OS methods take objects,
 * DB.Store takes an array, some take a scalar).
 */
export function parseParams(text: string): ParseResult<Json | undefined> {
  if (text.trim() === '') return { ok: true, value: undefined };
  return parseJson(text);
}

export function prettyJson(value: Json | undefined): string {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}
