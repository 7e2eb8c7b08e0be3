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
