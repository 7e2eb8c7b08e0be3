/**
 * The pattern fields of a device ACL (PROTOCOL.md 8), pure so the dashboard's live preview runs the
 * very code the hub enforces with.
 *
 * `shadow_read` / `shadow_write` are regular expressions from users: a string or an array of
 * strings (any match). They run on re2js, a linear-time RE2 port, so no pattern can backtrack
 * catastrophically and stall the hub; a pattern RE2 cannot compile (invalid syntax,
 * backreferences, lookaround) is refused when the ACL is saved (`aclPatternErrors`).
 * `rpc` is a comma-separated string of globs or an array of globs; `*` is any run of characters.
 */
import { RE2JS } from 're2js';

/** A compiled matcher: true when the path (or method) matches. */
export type PathTest = (s: string) => boolean;

const NEVER: PathTest = () => false;

/**
 * Compiled patterns by source text, shared by every ACL: fleets reuse a handful of patterns, so a
 * small bound keeps the hit rate high and memory flat whatever users save. Oldest entry goes first.
 */
export const PATTERN_CACHE_SIZE = 1024;
const cache = new Map<string, RE2JS>();

/** Compiles with the cache; throws re2js's syntax error for a pattern RE2 refuses. */
export function compilePattern(source: string): RE2JS {
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  const re = RE2JS.compile(source);
  if (cache.size >= PATTERN_CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(source, re);
  return re;
}

/** How many compiled patterns are cached (tests check the bound). */
export function patternCacheSize(): number {
  return cache.size;
}

/** The regex strings of a `shadow_read` / `shadow_write` field; absent or malformed: none. */
export function regexList(field: unknown): string[] {
  if (typeof field === 'string') return [field];
  if (Array.isArray(field)) return field.filter((p): p is string => typeof p === 'string');
  return [];
}

/** The globs of an `rpc` field: split at commas and trimmed, empties dropped. */
export function globList(field: unknown): string[] {
  const parts = typeof field === 'string' ? field.split(',') : Array.isArray(field) ? field : [];
  return parts
    .filter((p): p is string => typeof p === 'string')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * A search (as JavaScript `RegExp.test`: anchors as written) with any of the field's regexes. A
 * pattern that does not compile matches nothing: saved ACLs were checked, and an unchecked one
 * (an old store) then denies rather than throws.
 */
export function regexMatcher(field: unknown): PathTest {
  const compiled: RE2JS[] = [];
  for (const source of regexList(field)) {
    try {
      compiled.push(compilePattern(source));
    } catch {
      // refused at save time; here it grants nothing
    }
  }
  if (compiled.length === 0) return NEVER;
  return (s) => compiled.some((re) => re.matcher(s).find());
}

/** Glob to an anchored RE2 pattern: `*` is any run of characters, everything else literal. */
export function globToPattern(glob: string): string {
  return `^${glob.split('*').map(RE2JS.quote).join('.*')}$`;
}

/** Whether `method` matches one of the field's globs. */
export function globMatcher(field: unknown): PathTest {
  const globs = globList(field);
  if (globs.length === 0) return NEVER;
  const compiled = globs.map((g) => compilePattern(globToPattern(g)));
  return (s) => compiled.some((re) => re.matches(s));
}

export interface PatternError {
  /** `shadow_read`, `shadow_write[1]`, ... */
  field: string;
  pattern: string;
  reason: string;
}

/** Every pattern of `shadow_read` / `shadow_write` that RE2 refuses, with RE2's reason. */
export function aclPatternErrors(acl: {
  shadow_read?: unknown;
  shadow_write?: unknown;
}): PatternError[] {
  const errors: PatternError[] = [];
  for (const key of ['shadow_read', 'shadow_write'] as const) {
    const field = acl[key];
    regexList(field).forEach((pattern, i) => {
      try {
        compilePattern(pattern);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        errors.push({ field: Array.isArray(field) ? `${key}[${i}]` : key, pattern, reason });
      }
    });
  }
  return errors;
}
