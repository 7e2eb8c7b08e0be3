/**
 * Backup of a running hub with 10k devices and 1M data rows (issue 12, benchmarks): the wall time
 * of `POST /api/v2/backup` (snapshot + zip + download), the archive size, and the hub's REST p99
 * (`GET /api/v2/devices/:id`, 4 closed-loop clients) without a backup and while one runs, in the
 * same run and the same hub process.
 *
 * Run: node --import tsx bench/backup.ts [--devices 10000] [--rows 1000000] [--seconds 10]
 *
 * Setup is direct SQL into the data dir before the hub starts (one transaction per database): the
 * benchmark measures the backup, not device creation.
 */
import { parseArgs } from 'node:util';
import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { openStore } from '../src/main/store/store';
import { hashSecret } from '../src/main/store/secrets';
import { emptyShadow } from '../src/main/shadow/shadow';
import { startHubProcess } from './bench-hub';
import { HubClient } from './http-json';
import { makeTempDir } from './temp-dir';
import { fmtMs } from './latency';
import { startProbe } from './latency-probe';
import { intFlag, isMain, runMain } from './bench-main';
import { currentLoad, machineInfo } from './machine-info';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function prefill(dataDir: string, devices: number, rows: number): void {
  const store = openStore(dataDir);
  const now = Math.floor(Date.now() / 1000);
  const ins = store.registry.prepare(
    'INSERT INTO devices (id, name, token, token_hash, acl, shadow, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  store.registry.transaction(() => {
    for (let i = 0; i < devices; i++) {
      const shadow = emptyShadow(now);
      shadow.state.desired = { led: i % 2 === 0 ? 'on' : 'off', interval: 10 };
      shadow.state.reported = { temp: 20 + (i % 10), fw: { version: '1.2.3' } };
      const token = `tok-${i}-${'x'.repeat(16)}`;
      ins.run(
        `dev-${i}`,
        `device ${i}`,
        token,
        hashSecret(token),
        '{}',
        JSON.stringify(shadow),
        now,
      );
    }
  })();
  const data = store.account.db.prepare(
    'INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, ?, ?, ?)',
  );
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  store.account.db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const ts = new Date(t0 + i * 1000).toISOString().replace('T', ' ').slice(0, 19);
      data.run(
        ts,
        `dev-${i % devices}`,
        'data',
        `{"temp":${20 + (i % 50) / 10},"hum":${40 + (i % 20)}}`,
      );
    }
  })();
  store.close();
}

/** Closed-loop GETs of random devices until stopped. */
function probe(client: HubClient, devices: number, clients: number) {
  const p = startProbe(clients, async () => {
    const id = `dev-${Math.floor(Math.random() * devices)}`;
    return (await client.send('GET', `/api/v2/devices/${id}`)).status;
  });
  return {
    async stop() {
      const { lat, errors } = await p.stop();
      return { lat: lat.summary(), errors };
    },
  };
}

/** POST /api/v2/backup streamed to `file`; the time to the headers and to the last byte. */
function download(
  http: string,
  key: string,
  file: string,
): Promise<{ headersMs: number; totalMs: number; bytes: number }> {
  const u = new URL(`${http}/api/v2/backup`);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
      },
      (res) => {
        const headersMs = performance.now() - t0;
        if (res.statusCode !== 200) return reject(new Error(`backup: HTTP ${res.statusCode}`));
        const out = createWriteStream(file);
        res.pipe(out);
        out.on('error', reject);
        once(out, 'finish').then(
          () => resolve({ headersMs, totalMs: performance.now() - t0, bytes: statSync(file).size }),
          reject,
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export async function runBackupBench(o: {
  devices: number;
  rows: number;
  seconds: number;
  log: (l: string) => void;
}) {
  const tmp = makeTempDir('fb-bench-backup-');
  const dataDir = tmp.file('data');
  mkdirSync(dataDir);
  try {
    const t0 = performance.now();
    prefill(dataDir, o.devices, o.rows);
    const sizes = {
      registry: statSync(join(dataDir, 'fleetbench.db')).size,
      account: statSync(join(dataDir, 'account.db')).size,
    };
    o.log(
      `prefilled ${o.devices} devices, ${o.rows} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const hub = await startHubProcess({ dataDir });
    try {
      const client = new HubClient(hub.http, hub.key, 8);
      // Warm up, then the baseline.
      const warm = probe(client, o.devices, 4);
      await sleep(2000);
      await warm.stop();
      const idle = probe(client, o.devices, 4);
      await sleep(o.seconds * 1000);
      const base = await idle.stop();
      o.log(
        `idle: p50 ${fmtMs(base.lat.p50)} p99 ${fmtMs(base.lat.p99)} ms (${base.lat.count} calls)`,
      );
      // The same probe while a backup runs, from its start to its last byte.
      const during = probe(client, o.devices, 4);
      const dl = await download(hub.http, hub.key, tmp.file('backup.zip'));
      const busy = await during.stop();
      o.log(
        `backup: ${(dl.totalMs / 1000).toFixed(1)} s (archive ready after ${(dl.headersMs / 1000).toFixed(1)} s), ` +
          `${(dl.bytes / 1024 / 1024).toFixed(1)} MB; probe p99 ${fmtMs(busy.lat.p99)} ms`,
      );
      return { sizes, base, busy, dl, rss: hub.memory() };
    } finally {
      await hub.stop();
    }
  } finally {
    tmp.remove();
  }
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values } = parseArgs({
      options: {
        devices: { type: 'string' },
        rows: { type: 'string' },
        seconds: { type: 'string' },
      },
    });
    const m = machineInfo();
    const devices = intFlag(values.devices, 'devices', 10_000, 1);
    const rows = intFlag(values.rows, 'rows', 1_000_000, 0);
    const r = await runBackupBench({
      devices,
      rows,
      seconds: intFlag(values.seconds, 'seconds', 10, 1),
      log: (l) => console.error(l),
    });
    const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
    console.log(
      `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}; ${m.date}; ` +
        `load average ${m.loadAtStart.toFixed(2)} at start, ${currentLoad().toFixed(2)} at end; commit ${m.commit}${m.dirty ? ' (dirty)' : ''}.\n`,
    );
    console.log(
      [
        `| ${devices} devices, ${rows} rows | value |`,
        '| --- | --- |',
        `| registry / account DB on disk | ${mb(r.sizes.registry)} MB / ${mb(r.sizes.account)} MB |`,
        `| backup wall time (POST to last byte) | ${(r.dl.totalMs / 1000).toFixed(1)} s |`,
        `| of which snapshot + zip (to the headers) | ${(r.dl.headersMs / 1000).toFixed(1)} s |`,
        `| archive size | ${mb(r.dl.bytes)} MB |`,
        `| GET /devices/:id p50 / p99, no backup | ${fmtMs(r.base.lat.p50)} / ${fmtMs(r.base.lat.p99)} ms (${r.base.lat.count} calls, ${r.base.errors} errors) |`,
        `| GET /devices/:id p50 / p99, during the backup | ${fmtMs(r.busy.lat.p50)} / ${fmtMs(r.busy.lat.p99)} ms (${r.busy.lat.count} calls, ${r.busy.errors} errors), max ${fmtMs(r.busy.lat.max)} ms |`,
        `| p99 during / without | ${(r.busy.lat.p99 / r.base.lat.p99).toFixed(1)}x |`,
      ].join('\n'),
    );
  }, 30 * 60_000);
}
