/**
 * Shared setup of the data benchmarks (data-ingest.ts, data-drain.ts): a hub process, devices
 * whose ACL has the `q` data_write query, the device worker (data-load-worker.ts), the account
 * database read back from its file, and a markdown section for RESULTS.md.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ACCOUNT_FILE } from '../src/main/store/data-dir';
import { startHubProcess, type HubProcess } from './bench-hub';
import { createDevices, type CreatedDevice } from './bench-devices';
import { HubClient } from './http-json';
import { WorkerChannel } from './worker-channel';
import { DataReport, type DataCommand } from './data-load-worker';
import { machineInfo } from './machine-info';
import type { BenchReport } from './bench-report';

export const INGEST_QUERY =
  "INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, 'DEVICE_ID', ?, ?)";

const WORKER_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface DataRig {
  hub: HubProcess;
  client: HubClient;
  devices: CreatedDevice[];
  worker: WorkerChannel<DataCommand, typeof DataReport>;
  stop(): Promise<void>;
}

export async function startDataRig(
  count: number,
  opts: { cpuProfDir?: string; log: (l: string) => void },
): Promise<DataRig> {
  const hub = await startHubProcess({
    ...(opts.cpuProfDir !== undefined && { cpuProfDir: opts.cpuProfDir }),
    onLine: (l) => opts.log(`  [hub] ${l}`),
  });
  const client = new HubClient(hub.http, hub.key, 16);
  let worker: WorkerChannel<DataCommand, typeof DataReport> | null = null;
  try {
    const { devices } = await createDevices(client, count);
    let next = 0;
    const setAcl = async (): Promise<void> => {
      while (next < devices.length) {
        const d = devices[next++];
        if (d === undefined) return;
        await client.json('POST', `/api/v2/devices/${d.id}`, {
          acl: { data_write: { q: INGEST_QUERY } },
        });
      }
    };
    await Promise.all(Array.from({ length: 16 }, setAcl));
    worker = WorkerChannel.fork<DataCommand, typeof DataReport>(
      join(WORKER_DIR, 'data-load-worker.ts'),
      'devices',
      DataReport,
    );
    const w = worker;
    return {
      hub,
      client,
      devices,
      worker: w,
      async stop() {
        await w.stop();
        client.close();
        await hub.stop();
      },
    };
  } catch (e) {
    await worker?.stop();
    client.close();
    await hub.stop();
    throw e;
  }
}

/** Rows of `topic` in the hub's account database, read from its file. */
export function countRows(dataDir: string, topic: string): number {
  const db = new Database(join(dataDir, ACCOUNT_FILE), { readonly: true, fileMustExist: true });
  try {
    return (
      db
        .prepare<[string], number>('SELECT count(*) FROM data WHERE topic = ?')
        .pluck()
        .get(topic) ?? 0
    );
  } finally {
    db.close();
  }
}

/** A RESULTS.md section: machine, command, metrics, goals, notes. */
export function markdownSection(r: BenchReport): string {
  const m = machineInfo();
  const rows = r.metrics.map(([k, v]) => `| ${k} | ${v} |`).join('\n');
  const goals = r.goals
    .map(
      (g) =>
        `| ${g.goal} | ${g.measured} | ${g.pass === null ? 'n/a' : g.pass ? 'pass' : 'FAIL'} |`,
    )
    .join('\n');
  return [
    `### ${r.title}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, Linux ${m.kernel}; ` +
      `${m.date} (end of the run); 1-minute load average then ${m.loadAtStart.toFixed(2)}; commit ${m.commit}${m.dirty ? ' + working tree' : ''}; ${m.hubBuild}.`,
    '',
    `Command: \`${r.command}\``,
    '',
    '| metric | value |',
    '| ------ | ----- |',
    rows,
    '',
    '| goal | measured | result |',
    '| ---- | -------- | ------ |',
    goals,
    '',
    ...r.notes.map((n) => `- ${n}`),
    ...(r.profile !== undefined ? ['', r.profile] : []),
    '',
  ].join('\n');
}
