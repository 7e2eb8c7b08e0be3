/**
 * `/sql/exec` of an aggregate over 1M rows while 1,000 devices ingest (issue 9, benchmarks): the
 * p99 of REST RPCs to other, idle devices (`GET /devices/:id/rpc/Sys.GetInfo`) in four phases:
 * idle, aggregates alone, ingest alone, ingest + aggregates. The SQL runs in the executor's child
 * processes (src/main/data/sql-executor.ts), so the hub's event loop should barely notice it; the
 * machine's two cores are shared by all of it, which is what the ratio shows.
 *
 * Run: node --import tsx bench/sql-under-ingest.ts [--rows 1000000] [--devices 1000]
 *        [--interval-ms 100] [--seconds 10]
 *
 * Processes: this one (REST probe and the aggregate loop), the hub (`fleetbench serve`), the
 * ingesting devices (bench/db-save-flood.ts: `DB.Save` with ids, closed loop) and `fleetbench sim`
 * with the idle devices the probe calls.
 */
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { openStore } from '../src/main/store/store';
import { startHubProcess, type HubProcess } from './bench-hub';
import { BenchChild } from './bench-child';
import { createDevices, writePasswords } from './bench-devices';
import { HubClient } from './http-json';
import { makeTempDir } from './temp-dir';
import { fmtMs, type LatencySummary } from './latency';
import { startProbe } from './latency-probe';
import { intFlag, isMain, runMain } from './bench-main';
import { startSimProcess, type SimProcess } from './bench-sim';
import { currentLoad, machineInfo } from './machine-info';

export const AGGREGATE =
  "SELECT device_id, count(*) AS n, avg(json_extract(message, '$.temp')) AS temp " +
  'FROM data GROUP BY device_id';

export interface Phase {
  name: string;
  probe: LatencySummary;
  probeErrors: number;
  rowsPerSecond: number;
  sql: LatencySummary | null;
  sqlErrors: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fills the account database of `dataDir` with `rows` rows from `devices` devices, then closes it. */
function prefill(dataDir: string, rows: number, devices: number): void {
  const store = openStore(dataDir);
  const db = store.account.db;
  const ins = db.prepare(
    'INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, ?, ?, ?)',
  );
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const ts = new Date(t0 + i * 1000).toISOString().replace('T', ' ').slice(0, 19);
      const temp = Math.round((20 + Math.sin(i / 1000) * 5) * 10) / 10;
      ins.run(ts, `pre-${i % devices}`, 'data', `{"temp":${temp},"hum":${40 + (i % 20)}}`);
    }
  })();
  store.close();
}

export async function runSqlUnderIngest(o: {
  rows: number;
  devices: number;
  intervalMs: number;
  seconds: number;
  log: (l: string) => void;
}): Promise<Phase[]> {
  const tmp = makeTempDir('fb-bench-sql-');
  const dataDir = tmp.file('data');
  mkdirSync(dataDir);
  let hub: HubProcess | null = null;
  let sim: SimProcess | null = null;
  let flood: BenchChild | null = null;
  const phases: Phase[] = [];
  try {
    const t0 = performance.now();
    prefill(dataDir, o.rows, o.devices);
    o.log(`prefilled ${o.rows} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    hub = await startHubProcess({ dataDir });
    const client = new HubClient(hub.http, hub.key, 32);
    const probeClient = new HubClient(hub.http, hub.key, 4);
    const sqlClient = new HubClient(hub.http, hub.key, 1);
    const ingest = await createDevices(client, o.devices, { prefix: 'ingest-' });
    const idle = await createDevices(client, 16, { prefix: 'idle-' });
    const idleIds = idle.devices.map((d) => d.id);
    writePasswords(tmp.file('ingest.txt'), ingest.devices);
    writePasswords(tmp.file('idle.txt'), idle.devices);
    sim = startSimProcess({
      url: hub.deviceUrl,
      passwordsFile: tmp.file('idle.txt'),
      count: 16,
      ramp: 0,
      maxSeconds: 1800,
      label: 'sim-idle',
    });
    await sim.allReadyLine(60_000);

    let rows = 0;
    const h = hub;
    let k = 0;
    const probeCall = async (): Promise<number> =>
      (
        await probeClient.send(
          'GET',
          `/api/v2/devices/${idleIds[k++ % idleIds.length]}/rpc/Sys.GetInfo`,
        )
      ).status;
    const sqlCall = async (): Promise<number> =>
      (await sqlClient.send('POST', '/api/v2/sql/exec', { query: AGGREGATE }, 120_000)).status;

    const phase = async (name: string, withSql: boolean): Promise<void> => {
      await sleep(1000);
      const rows0 = rows;
      const p = startProbe(4, probeCall);
      const s = withSql ? startProbe(1, sqlCall) : null;
      const start = performance.now();
      await sleep(o.seconds * 1000);
      const pr = await p.stop();
      const sr = s ? await s.stop() : null;
      const secs = (performance.now() - start) / 1000;
      const result: Phase = {
        name,
        probe: pr.lat.summary(),
        probeErrors: pr.errors,
        rowsPerSecond: (rows - rows0) / secs,
        sql: sr ? sr.lat.summary() : null,
        sqlErrors: sr?.errors ?? 0,
      };
      phases.push(result);
      o.log(
        `${name}: probe p50 ${fmtMs(result.probe.p50)} p99 ${fmtMs(result.probe.p99)} ms, ` +
          `${Math.round(result.rowsPerSecond)} rows/s` +
          (result.sql ? `, aggregate ${result.sql.count}x p50 ${fmtMs(result.sql.p50)} ms` : ''),
      );
    };

    await phase('idle', false);
    await phase('aggregates alone', true);
    flood = BenchChild.node(
      'bench/db-save-flood.ts',
      [h.deviceUrl, tmp.file('ingest.txt'), '--interval-ms', String(o.intervalMs)],
      {
        label: 'flood',
        nodeFlags: ['--import', 'tsx'],
        onLine: (l) => {
          const m = /^rows (\d+)/.exec(l);
          if (m) rows = Number(m[1]);
        },
      },
    );
    await flood.waitForLine(/^ready \d+/, 120_000);
    await phase('ingest alone', false);
    await phase('ingest + aggregates', true);
  } finally {
    await flood?.stop();
    await sim?.stop();
    await hub?.stop();
    tmp.remove();
  }
  return phases;
}

export function renderPhases(phases: readonly Phase[]): string {
  const idle = phases[0]?.probe.p99 ?? 0;
  const lines = [
    '| phase | probe calls | probe p50 ms | probe p99 ms | p99 vs idle | DB.Save rows/s | aggregates | aggregate p50 ms | aggregate max ms |',
    '| ----- | ----------- | ------------ | ------------ | ----------- | -------------- | ---------- | ---------------- | ---------------- |',
  ];
  for (const p of phases) {
    lines.push(
      `| ${p.name} | ${p.probe.count} | ${fmtMs(p.probe.p50)} | ${fmtMs(p.probe.p99)} | ` +
        `${idle > 0 ? (p.probe.p99 / idle).toFixed(1) : '-'}x | ${Math.round(p.rowsPerSecond)} | ` +
        `${p.sql ? p.sql.count : '-'} | ${p.sql ? fmtMs(p.sql.p50) : '-'} | ${p.sql ? fmtMs(p.sql.max) : '-'} |`,
    );
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values } = parseArgs({
      options: {
        rows: { type: 'string' },
        devices: { type: 'string' },
        'interval-ms': { type: 'string' },
        seconds: { type: 'string' },
      },
    });
    const m = machineInfo();
    const started = performance.now();
    const phases = await runSqlUnderIngest({
      rows: intFlag(values.rows, 'rows', 1_000_000, 1),
      devices: intFlag(values.devices, 'devices', 1000, 1),
      intervalMs: intFlag(values['interval-ms'], 'interval-ms', 100, 0),
      seconds: intFlag(values.seconds, 'seconds', 10, 1),
      log: (l) => console.error(l),
    });
    console.log(
      `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}; ${m.date}; ` +
        `load average ${m.loadAtStart.toFixed(2)} at start, ${currentLoad().toFixed(2)} at end; ` +
        `run took ${Math.round((performance.now() - started) / 1000)} s; commit ${m.commit}${m.dirty ? ' (dirty)' : ''}.\n`,
    );
    console.log(renderPhases(phases));
  }, 30 * 60_000);
}
