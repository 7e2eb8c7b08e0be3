/**
 * Reconnect drain (PROTOCOL.md 5, issue 9): N devices come back each holding a spool
 * (`mdash.unsent`, 32 KB by default, the mDash library's rotation size) and the hub drains them on
 * connect: FS.Get chunks of 4 KB, every line of a file in one transaction, FS.Remove after the
 * commit. Measures the time from the first connection until every spooled row is in the account
 * database, and until every file was removed.
 *
 * Run: node --import tsx bench/data-drain.ts [--devices 1000] [--spool-kb 32] [--cpu-prof DIR]
 */
import { parseArgs } from 'node:util';
import { cpuShare, cpuTimeMs } from './proc-stats';
import { profileOf, monotonicUs } from './cpu-profile-summary';
import { fmtInt, type BenchReport } from './bench-report';
import { intFlag, isMain, runMain } from './bench-main';
import { countRows, markdownSection, startDataRig } from './data-bench-common';

export interface DrainResult {
  devices: number;
  spoolKb: number;
  rows: number;
  connectMs: number;
  storedMs: number;
  stored: number;
  hubCpu: number;
  profile: string | null;
}

export async function runDataDrain(o: {
  devices: number;
  spoolKb: number;
  cpuProfDir?: string;
  log: (l: string) => void;
}): Promise<DrainResult> {
  const rig = await startDataRig(o.devices, o);
  let stopped = false;
  try {
    const hub0 = cpuTimeMs(rig.hub.pid);
    const t0 = performance.now();
    const from = monotonicUs();
    const c = await rig.worker.request(
      {
        type: 'connect',
        url: rig.hub.deviceUrl,
        tokens: rig.devices.map((d) => d.token),
        spoolBytes: o.spoolKb * 1024,
        batch: 100,
      },
      300_000,
    );
    if (c.type !== 'connected') throw new Error(`worker: ${JSON.stringify(c)}`);
    o.log(
      `drain: ${c.devices} devices connected in ${Math.round(c.connectMs)} ms, ${fmtInt(c.spooledRows)} rows spooled`,
    );
    let stored = 0;
    const deadline = t0 + 600_000;
    while (performance.now() < deadline) {
      stored = countRows(rig.hub.dataDir, 'spool');
      if (stored >= c.spooledRows) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const storedMs = performance.now() - t0;
    const to = monotonicUs();
    const hubCpu = cpuShare(hub0, cpuTimeMs(rig.hub.pid), storedMs);
    o.log(`drain: ${fmtInt(stored)} rows stored after ${Math.round(storedMs)} ms`);
    await rig.worker.stop();
    await rig.hub.child.stop();
    await rig.stop();
    stopped = true;
    return {
      devices: o.devices,
      spoolKb: o.spoolKb,
      rows: c.spooledRows,
      connectMs: c.connectMs,
      storedMs,
      stored,
      hubCpu,
      profile: profileOf(o.cpuProfDir, rig.hub.pid, [{ fromUs: from, toUs: to }]),
    };
  } finally {
    if (!stopped) await rig.stop();
  }
}

export function drainReport(r: DrainResult): BenchReport {
  const s = r.storedMs / 1000;
  return {
    title: 'Reconnect drain of device spools',
    metrics: [
      ['Devices / spool per device', `${r.devices} / ${r.spoolKb} KB (\`mdash.unsent\`)`],
      ['Rows spooled in total', fmtInt(r.rows)],
      ['All devices connected after', `${(r.connectMs / 1000).toFixed(1)} s`],
      [
        'Every row stored after (from the first connection)',
        `${s.toFixed(1)} s (${fmtInt(r.stored)} rows, ${fmtInt(r.stored / s)} rows/s)`,
      ],
      ['Hub CPU (share of one core over that time)', `${(r.hubCpu * 100).toFixed(0)}%`],
    ],
    goals: [
      {
        goal: 'every spooled row stored, nothing lost',
        measured: `${fmtInt(r.stored)} of ${fmtInt(r.rows)} in ${s.toFixed(1)} s`,
        pass: r.stored === r.rows,
      },
    ],
    command: `node --import tsx bench/data-drain.ts --devices ${r.devices} --spool-kb ${r.spoolKb}`,
    notes: [
      'Each device serves FS.Get from memory (chunks of the 4 KB the hub asks for) and removes the file on FS.Remove; a file is stored in one transaction (one group-commit write) before FS.Remove.',
      'The devices connect for the first time with a full spool, which for the hub is the same as a reconnect (session steps 1-5).',
      'Rows are counted by polling the account database file every 100 ms from this process.',
    ],
    ...(r.profile !== null && { profile: r.profile }),
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      'spool-kb': { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  runMain(async () => {
    const r = await runDataDrain({
      devices: intFlag(values.devices, 'devices', 1000, 1),
      spoolKb: intFlag(values['spool-kb'], 'spool-kb', 32, 1),
      ...(values['cpu-prof'] !== undefined && { cpuProfDir: values['cpu-prof'] }),
      log: (l) => console.log(l),
    });
    console.log(markdownSection(drainReport(r)));
  }, 900_000);
}
