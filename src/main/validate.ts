/**
 * Every input from outside is `unknown` until a schema accepts it (DESIGN.md example 4). The
 * TypeBox schema is the source of the TypeScript type; compiled validators are cached per schema.
 */
import type { TSchema, Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { HubError } from '../shared/errors';

type Validator = ReturnType<typeof Compile>;
const cache = new WeakMap<TSchema, Validator>();

function validatorFor(schema: TSchema): Validator {
  let v = cache.get(schema);
  if (!v) {
    v = Compile(schema);
    cache.set(schema, v);
  }
  return v;
}

/** Returns a readable description of the first problem, or null when the value fits. */
export function firstProblem(schema: TSchema, value: unknown): string | null {
  const v = validatorFor(schema);
  if (v.Check(value)) return null;
  for (const e of v.Errors(value)) {
    const where = e.instancePath === '' ? 'input' : e.instancePath;
    return `${where}: ${e.message}`;
  }
  return 'input does not match the schema';
}

export function isValid<S extends TSchema>(schema: S, value: unknown): value is Static<S> {
  return validatorFor(schema).Check(value);
}

/** Validates or throws a coded `validation_failed` error naming the first bad field. */
export function parseWith<S extends TSchema>(schema: S, value: unknown): Static<S> {
  const problem = firstProblem(schema, value);
  if (problem !== null) throw new HubError('validation_failed', problem);
  return value as Static<S>;
}

/**
 * How deep `value` nests arrays and objects (a scalar is 0, `[]` is 1), counted without
 * recursion so a hostile document cannot overflow the stack here; stops counting past `limit`.
 */
export function jsonDepth(value: unknown, limit = Number.MAX_SAFE_INTEGER): number {
  let deepest = 0;
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (typeof v !== 'object' || v === null) continue;
    const d = depth + 1;
    if (d > deepest) deepest = d;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (typeof child === 'object' && child !== null) stack.push({ v: child, depth: d });
    }
  }
  return deepest;
}

/**
 * Refuses input nested deeper than `maxDepth` with a coded 400 (issue 7 item 10): recursive code
 * further on (schema checks, the shadow merge, JSON.stringify) would otherwise hit the stack
 * limit and turn hostile input into a 500.
 */
export function checkJsonDepth(value: unknown, maxDepth: number, what = 'body'): void {
  if (jsonDepth(value, maxDepth) > maxDepth) {
    throw new HubError('json_too_deep', `${what} nests deeper than ${maxDepth} levels`);
  }
}
