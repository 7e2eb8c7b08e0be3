/**
 * Running a benchmark file directly (`node --import tsx bench/<name>.ts [flags]`): detects that
 * the file is the entry point, bounds the whole run in time, and reports errors with exit code 1.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(resolve(entry)).href === moduleUrl;
}

/** Runs `fn`; exits with 1 on an error and with 2 if it is still running after `maxMs`. */
export function runMain(fn: () => Promise<void>, maxMs: number): void {
  const bound = setTimeout(() => {
    console.error(`benchmark still running after ${Math.round(maxMs / 1000)} s: stopping it`);
    process.exit(2); // exit-guard.ts kills the children and removes the temp dirs
  }, maxMs);
  bound.unref();
  fn().then(
    () => {
      clearTimeout(bound);
    },
    (e: unknown) => {
      clearTimeout(bound);
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 1;
    },
  );
}

/** A positive integer flag value, or the default; anything else is a usage error. */
export function intFlag(value: string | undefined, name: string, dflt: number, min = 0): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name}: expected an integer >= ${min}, got '${value}'`);
  return n;
}
