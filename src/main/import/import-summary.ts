/**
 * What an import did (or, in a dry run, would do): counts per kind and the items worth naming
 * (everything but `unchanged`), with reasons. Pure: the CLI prints it as text or JSON.
 */

export const IMPORT_KINDS = ['devices', 'customers', 'tables', 'rows'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export const OUTCOMES = ['created', 'updated', 'unchanged', 'skipped', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type Counts = Record<Outcome, number>;

export interface ImportItem {
  kind: ImportKind;
  /** Device or customer id, or table name. */
  id: string;
  /** `created` covers `replaced` (deleted, then created: --overwrite); `skipped` is a conflict. */
  outcome: Outcome;
  /** What was (would be) done: `create`, `replace`, `update name, acl`, ... */
  action: string;
  reason?: string;
  /** Rows, for a table item. */
  rows?: number;
}

export interface ImportSummary {
  /** The source as given, without credentials (never the key). */
  source: string;
  dryRun: boolean;
  counts: Record<ImportKind, Counts>;
  items: ImportItem[];
  /** Parts of the source that could not be read at all (e.g. no SQL API): why. */
  notes: string[];
}

const zero = (): Counts => ({ created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 });

export class SummaryBuilder {
  readonly summary: ImportSummary;

  constructor(source: string, dryRun: boolean) {
    this.summary = {
      source,
      dryRun,
      counts: { devices: zero(), customers: zero(), tables: zero(), rows: zero() },
      items: [],
      notes: [],
    };
  }

  /** Counts one item; names it in `items` unless it is unchanged. */
  add(item: ImportItem): void {
    this.summary.counts[item.kind][item.outcome] += 1;
    if (item.outcome !== 'unchanged') this.summary.items.push(item);
  }

  /** Adds row counts (rows are counted, never listed). */
  rows(outcome: Outcome, n: number): void {
    this.summary.counts.rows[outcome] += n;
  }

  note(text: string): void {
    this.summary.notes.push(text);
  }
}

/** True when the run changed (or would change) nothing and nothing failed; conflicts may remain. */
export function changedNothing(s: ImportSummary): boolean {
  return IMPORT_KINDS.every((k) => {
    const c = s.counts[k];
    return c.created === 0 && c.updated === 0 && c.failed === 0;
  });
}

/**
 * The exit code of `fleetbench import`: 0 all done (or nothing to do), 1 something failed,
 * 3 conflicts were skipped (and nothing failed).
 */
export function importExitCode(s: ImportSummary): number {
  if (IMPORT_KINDS.some((k) => s.counts[k].failed > 0)) return 1;
  if (IMPORT_KINDS.some((k) => s.counts[k].skipped > 0)) return 3;
  return 0;
}

const WOULD: Record<Outcome, string> = {
  created: 'create',
  updated: 'update',
  unchanged: 'keep',
  skipped: 'skip',
  failed: 'fail',
};

/** The human summary: one line per named item, then the counts, then a verdict. */
export function formatSummary(s: ImportSummary): string {
  const out: string[] = [];
  for (const i of s.items) {
    const what = i.rows === undefined ? i.action : `${i.action}, ${i.rows} row(s)`;
    const reason = i.reason === undefined ? '' : `: ${i.reason}`;
    const label = s.dryRun ? `would ${WOULD[i.outcome]}` : i.outcome;
    out.push(`${i.kind.replace(/s$/, '')} ${i.id}: ${label} (${what})${reason}`);
  }
  for (const n of s.notes) out.push(`note: ${n}`);
  out.push(`${s.dryRun ? 'dry run, nothing written; ' : ''}from ${s.source}:`);
  const [created, updated] = s.dryRun ? ['would create', 'would update'] : ['created', 'updated'];
  for (const k of IMPORT_KINDS) {
    const c = s.counts[k];
    out.push(
      `  ${k.padEnd(9)} ${created} ${c.created}, ${updated} ${c.updated}, unchanged ${c.unchanged}, skipped ${c.skipped}, failed ${c.failed}`,
    );
  }
  if (changedNothing(s)) {
    const skipped = IMPORT_KINDS.reduce((n, k) => n + s.counts[k].skipped, 0);
    out.push(
      `nothing to do: the local hub already has everything${skipped > 0 ? ` but ${skipped} conflict(s) skipped` : ''}`,
    );
  }
  return `${out.join('\n')}\n`;
}
