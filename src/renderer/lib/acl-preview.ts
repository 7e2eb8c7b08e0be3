/**
 * What the device page's ACL editor shows before anything runs (PROTOCOL.md 5, 8): the named
 * queries of `data_read` / `data_write` as editable rows, the ACL to save with the other fields
 * kept, a query's text after the hub's `DEVICE_ID` / `CUSTOMER_ID` replacement, and how many `?`
 * it binds (so an `EXPLAIN` check can pass that many nulls).
 *
 * The replacement is the hub's own (src/shared/acl-query.ts), so the preview shows exactly what
 * the hub will run.
 */
import type { DeviceAcl } from '../../shared/types';
import { substituteIds as substitute } from '../../shared/acl-query';

export type AclKind = 'data_read' | 'data_write';

export interface AclEntry {
  name: string;
  query: string;
}

export function aclEntries(acl: DeviceAcl, kind: AclKind): AclEntry[] {
  const table = acl[kind];
  if (!table || typeof table !== 'object') return [];
  return Object.entries(table)
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([name, query]) => ({ name, query }));
}

/** A problem with the drafted entries, or null when they can be saved. */
export function entriesProblem(entries: readonly AclEntry[]): string | null {
  const seen = new Set<string>();
  for (const e of entries) {
    const name = e.name.trim();
    if (name === '') return 'every query needs a name';
    if (seen.has(name)) return `the name ${name} is used twice`;
    if (e.query.trim() === '') return `the query ${name} is empty`;
    seen.add(name);
  }
  return null;
}

/** `acl` with both data tables replaced by the drafts; every other field as it was stored. */
export function aclWithData(
  acl: DeviceAcl,
  read: readonly AclEntry[],
  write: readonly AclEntry[],
): DeviceAcl {
  const table = (entries: readonly AclEntry[]): Record<string, string> =>
    Object.fromEntries(entries.map((e) => [e.name.trim(), e.query]));
  return { ...acl, data_read: table(read), data_write: table(write) };
}

export function substituteIds(query: string, deviceId: string, customerId = ''): string {
  return substitute(query, { deviceId, customerId });
}

/** Positional `?` parameters outside quoted text and comments. */
export function countParams(sql: string): number {
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = sql.indexOf(c, i + 1);
      i = end < 0 ? sql.length : end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '?') n++;
  }
  return n;
}
