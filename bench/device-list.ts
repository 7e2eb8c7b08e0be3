/**
 * The device list a dashboard polls (issue 11, "Device lists for dashboards"): N devices online
 * through `fleetbench sim`, then R requests one after another of each form of
 * `GET /api/v2/devices`: the whole list (what mDash clients ask for), the dashboard's
 * `?fields=...` and one page (`?limit=100`). Per form: median and largest time, body size, and the
 * hub's CPU per request (from /proc, so what the list costs the event loop every device shares).
 *
 * Run alone: node --import tsx bench/device-list.ts [--devices 10000] [--requests 20]
 */
import { parseArgs } from 'node:util';
import { startHubProcess } from './bench-hub';
import { startSimProcess, type SimProcess } from './bench-sim';
import { createDevices, writePasswords } from './bench-devices';
import { HubClient } from './http-json';
import { waitOnlineAndQuiet } from './hub-status';
import { cpuTimeMs } from './proc-stats';
import { makeTempDir } from './temp-dir';
import { fmtInt, median } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';
import { SUMMARY_FIELDS } from '../src/renderer/lib/device-list';

/** The forms timed, as a dashboard and an mDash client ask. */
export const LIST_FORMS: readonly { name: string; path: string }[] = [
  { name: 'whole list', path: '/api/v2/devices' },
  // What the dashboard's device page asks for (src/renderer/lib/device-list.ts).
  { name: 'dashboard ?fields=', path: `/api/v2/devices?fields=${SUMMARY_FIELDS.join(',')}` },
  { name: 'one page of 100', path: '/api/v2/devices?limit=100' },
];

export interface ListTiming {
  name: string;
  medianMs: number;
  maxMs: number;
  bytes: number;
  hubCpuMsPerRequest: number;
}

export async function runDeviceList(devices: number, requests: number): Promise<ListTiming[]> {
  const tmp = makeTempDir('fb-bench-list-');
  const hub = await startHubProcess();
  const client = new HubClient(hub.http, hub.key, 32);
  let sim: SimProcess | null = null;
  try {
    const created = await createDevices(client, devices, { concurrency: 32 });
    writePasswords(tmp.file('passwords.txt'), created.devices);
    sim = startSimProcess({
      url: hub.deviceUrl,
      passwordsFile: tmp.file('passwords.txt'),
      count: devices,
      ramp: 0,
      maxSeconds: 900,
    });
    await waitOnlineAndQuiet(client, devices, 180_000);
    const out: ListTiming[] = [];
    for (const form of LIST_FORMS) {
      // Two unmeasured: the first compiles the route's code paths.
      for (let i = 0; i < 2; i++) await client.send('GET', form.path);
      const times: number[] = [];
      let bytes = 0;
      const cpu0 = cpuTimeMs(hub.pid);
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now();
        const reply = await client.send('GET', form.path);
        times.push(performance.now() - t0);
        if (reply.status !== 200) throw new Error(`${form.path}: HTTP ${reply.status}`);
        bytes = Buffer.byteLength(reply.text);
      }
      out.push({
        name: form.name,
        medianMs: median(times),
        maxMs: Math.max(...times),
        bytes,
        hubCpuMsPerRequest: (cpuTimeMs(hub.pid) - cpu0) / requests,
      });
    }
    return out;
  } finally {
    client.close();
    await sim?.stop();
    await hub.stop();
    tmp.remove();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: { devices: { type: 'string' }, requests: { type: 'string' } },
  });
  const devices = intFlag(values.devices, 'devices', 10_000, 1);
  const requests = intFlag(values.requests, 'requests', 20, 1);
  runMain(async () => {
    const rows = await runDeviceList(devices, requests);
    console.log(`\nDevice list, ${fmtInt(devices)} devices online, ${requests} requests each:`);
    console.log('| form | median | max | body | hub CPU per request |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) {
      console.log(
        `| ${r.name} | ${r.medianMs.toFixed(1)} ms | ${r.maxMs.toFixed(1)} ms | ${fmtInt(r.bytes)} B | ${r.hubCpuMsPerRequest.toFixed(1)} ms |`,
      );
    }
  }, 1_200_000);
}
