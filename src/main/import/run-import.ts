/**
 * `fleetbench import` (issue 12): copies devices, customers and account data from any
 * mDash-compatible server into the running local hub, in that order, and returns the summary.
 * Devices first: they are what the field is waiting for, and they need nothing else.
 */
import type { ImportLimits } from '../config';
import { importData } from './import-data';
import { importCustomers, importDevices } from './import-records';
import { SummaryBuilder, type ImportSummary } from './import-summary';
import { SourceReader } from './source-reader';
import { TargetHub } from './target-hub';
import type { Endpoint } from './rest-client';

export interface ImportOptions {
  dryRun: boolean;
  overwrite: boolean;
  limits: ImportLimits;
  /** Progress lines for long copies (the CLI writes them to stderr). */
  progress?: (line: string) => void;
}

/** Devices planned and written at once: enough to hide round trips, few enough for a small hub. */
const DEVICE_CONCURRENCY = 4;

export async function runImport(
  from: Endpoint,
  to: Endpoint,
  opts: ImportOptions,
): Promise<ImportSummary> {
  const source = new SourceReader(from, opts.limits.requestTimeoutMs);
  const target = new TargetHub(to, opts.limits.requestTimeoutMs);
  const summary = new SummaryBuilder(from.label, opts.dryRun);
  const progress = opts.progress ?? ((): void => undefined);
  const records = {
    dryRun: opts.dryRun,
    overwrite: opts.overwrite,
    devicePage: opts.limits.devicePage,
    concurrency: DEVICE_CONCURRENCY,
    progress,
  };
  await importDevices(source, target, summary, records);
  await importCustomers(source, target, summary, records);
  await importData(source, target, summary, {
    dryRun: opts.dryRun,
    rowPage: opts.limits.rowPage,
    maxParams: opts.limits.maxParams,
    maxInsertBytes: opts.limits.maxInsertBytes,
    progress,
  });
  return summary.summary;
}
