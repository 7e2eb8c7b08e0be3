/**
 * Devices and customers of an import: read from the source, planned against the local hub
 * (import-plan.ts), carried out through its REST API unless this is a dry run, and counted.
 * A refusal by the local hub fails that one item, with the hub's message and code as the reason.
 */
import {
  emailKey,
  planCustomer,
  planDevice,
  type DeviceAction,
  type PlanOptions,
} from './import-plan';
import type { SummaryBuilder } from './import-summary';
import { reasonOf, RestError } from './rest-client';
import type { SourceCustomer, SourceDevice, SourceReader } from './source-reader';
import type { TargetHub } from './target-hub';

export interface RecordOptions extends PlanOptions {
  dryRun: boolean;
  devicePage: number;
  /** Devices planned and written at once within a page. */
  concurrency: number;
  progress: (line: string) => void;
}

/** Runs `fn` over `items` with at most `limit` at once, in order of start. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function applyDevice(target: TargetHub, a: DeviceAction): Promise<void> {
  if (a.kind === 'update') {
    await target.updateDevice(a.id, a.patch);
    return;
  }
  if (a.kind !== 'create' && a.kind !== 'replace') return;
  // A replaced device is deleted, then created again like a new one.
  if (a.kind === 'replace') await target.deleteDevice(a.id);
  await target.createDevice({ id: a.id, name: a.name, token: a.token });
  if (a.patch === null) return;
  try {
    await target.updateDevice(a.id, a.patch);
  } catch (err) {
    if (!(err instanceof RestError)) throw err;
    throw new RestError(
      err.status,
      err.code,
      `created, but its ACL or shadow was refused: ${err.message}`,
    );
  }
}

function describeDevice(a: DeviceAction): string {
  switch (a.kind) {
    case 'create':
      return a.patch === null ? 'create' : `create with ${Object.keys(a.patch).join(', ')}`;
    case 'replace':
      return 'replace: delete the local device, create it with the source password';
    case 'update':
      return `update ${a.fields.join(', ')}`;
    case 'unchanged':
      return 'unchanged';
    case 'conflict':
      return 'keep the local device';
  }
}

const OUTCOME = {
  create: 'created',
  replace: 'updated',
  update: 'updated',
  unchanged: 'unchanged',
  conflict: 'skipped',
} as const;

export async function importDevices(
  source: SourceReader,
  target: TargetHub,
  summary: SummaryBuilder,
  o: RecordOptions,
): Promise<void> {
  let seen = 0;
  for await (const page of source.devicePages(o.devicePage)) {
    await eachLimited(page, o.concurrency, async (d: SourceDevice) => {
      const local = await target.device(d.id);
      const action = planDevice(d, local, o);
      const item = { kind: 'devices' as const, id: d.id, action: describeDevice(action) };
      try {
        if (!o.dryRun) await applyDevice(target, action);
        summary.add({
          ...item,
          outcome: OUTCOME[action.kind],
          ...(action.kind === 'conflict' && { reason: action.reason }),
        });
      } catch (err) {
        summary.add({ ...item, outcome: 'failed', reason: reasonOf(err) });
      }
    });
    seen += page.length;
    o.progress(`devices: ${seen} read`);
  }
}

export async function importCustomers(
  source: SourceReader,
  target: TargetHub,
  summary: SummaryBuilder,
  o: RecordOptions,
): Promise<void> {
  let list: SourceCustomer[];
  try {
    list = await source.customers();
  } catch (err) {
    // mDash servers without the customer API: the rest of the import still goes on.
    if (err instanceof RestError && (err.status === 404 || err.status === 405)) {
      summary.note(
        `customers not copied: the source has no GET /api/v2/customers (${err.describe()})`,
      );
      return;
    }
    throw err;
  }
  const local = new Map((await target.customers()).map((c) => [c.id, c]));
  const byEmail = new Map([...local.values()].map((c) => [emailKey(c.email), c.id]));
  for (const c of list) {
    const action = planCustomer(c, local.get(c.id), byEmail.get(emailKey(c.email)), o);
    const item = { kind: 'customers' as const, id: c.id };
    try {
      switch (action.kind) {
        case 'conflict':
          summary.add({
            ...item,
            outcome: 'skipped',
            action: 'keep the local customer',
            reason: action.reason,
          });
          continue;
        case 'unchanged':
          summary.add({ ...item, outcome: 'unchanged', action: 'unchanged' });
          continue;
        case 'replace':
          if (!o.dryRun) {
            await target.deleteCustomer(c.id);
            await target.putCustomer(c.id, action.body);
          }
          summary.add({
            ...item,
            outcome: 'updated',
            action: 'replace: delete, create with the source key',
          });
          continue;
        case 'create':
          if (!o.dryRun) await target.putCustomer(c.id, action.body);
          summary.add({
            ...item,
            outcome: 'created',
            action:
              action.body.token === undefined
                ? 'create (a new key: the source gave none)'
                : 'create',
          });
          continue;
        case 'update':
          if (!o.dryRun) await target.putCustomer(c.id, action.body);
          summary.add({
            ...item,
            outcome: 'updated',
            action: `update ${action.fields.join(', ')}`,
          });
          continue;
      }
    } catch (err) {
      summary.add({ ...item, outcome: 'failed', action: action.kind, reason: reasonOf(err) });
    }
  }
}
