/**
 * `fleetbench sim`: a fleet of simulated devices against any hub (load generator, demo, tests).
 */
import type { Command } from 'commander';
import { runSimCommand } from '../sim/sim-command';
import type { SimFaults } from '../sim/sim-device';
import { CliError } from './cli-errors';

interface SimFlags {
  url: string;
  count: string;
  apiKey?: string;
  passwords?: string;
  ramp?: string;
  shadowInterval?: string;
  logInterval?: string;
  authQuery?: boolean;
  seed?: string;
  dropAfter?: string;
  replyDelay?: string;
  errorRate?: string;
  garbageRate?: string;
  refuse?: string;
  family?: string;
  arch?: string;
  otaRebootDelay?: string;
  bootTime?: string;
  otaFailAtWrite?: string;
  otaDropAtWrite?: string;
  otaRollback?: boolean;
  otaNeverReturn?: boolean;
  otaWriteDelay?: string;
  faultShare?: string;
  statsInterval: string;
  duration?: string;
}

function num(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new CliError(`invalid ${flag} '${text}': use ${min}-${max}`);
  return n;
}

export function simFaults(f: SimFlags): SimFaults | undefined {
  const faults: SimFaults = {};
  const dropAfter = num(f.dropAfter, '--drop-after', 1, 86_400_000);
  const replyDelay = num(f.replyDelay, '--reply-delay', 0, 600_000);
  const errorRate = num(f.errorRate, '--error-rate', 0, 1);
  const garbageRate = num(f.garbageRate, '--garbage-rate', 0, 1);
  if (dropAfter !== undefined) faults.dropAfterMs = dropAfter;
  if (replyDelay !== undefined) faults.replyDelayMs = replyDelay;
  if (errorRate !== undefined) faults.errorRate = errorRate;
  if (garbageRate !== undefined) faults.garbageRate = garbageRate;
  if (f.refuse)
    faults.refuseMethods = f.refuse
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const failAt = num(f.otaFailAtWrite, '--ota-fail-at-write', 1, 1e9);
  const dropAt = num(f.otaDropAtWrite, '--ota-drop-at-write', 1, 1e9);
  const writeDelay = num(f.otaWriteDelay, '--ota-write-delay', 0, 600_000);
  if (failAt !== undefined) faults.otaFailAtWrite = Math.floor(failAt);
  if (dropAt !== undefined) faults.otaDropAtWrite = Math.floor(dropAt);
  if (writeDelay !== undefined) faults.otaWriteDelayMs = writeDelay;
  if (f.otaRollback) faults.otaRollback = true;
  if (f.otaNeverReturn) faults.otaNeverReturn = true;
  return Object.keys(faults).length ? faults : undefined;
}

const FAMILIES = ['mos', 'arduino', 'mixed'] as const;

function family(text: string | undefined): (typeof FAMILIES)[number] | undefined {
  if (text === undefined) return undefined;
  const found = FAMILIES.find((f) => f === text);
  if (found === undefined)
    throw new CliError(`invalid --family '${text}': use ${FAMILIES.join(', ')}`);
  return found;
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('run simulated mDash devices against a hub (load generator and demo)')
    .requiredOption('--url <url>', 'device URL, e.g. ws://127.0.0.1:8009/api/v2/rpc')
    .option('--count <n>', 'number of devices (with --passwords: 0 = one per line)', '1')
    .option('--api-key <key>', 'master key: create the devices through the REST API')
    .option('--passwords <file>', 'file with one device password per line')
    .option('--ramp <perSecond>', 'devices started per second (0 = all at once)')
    .option('--shadow-interval <ms>', 'periodic Dash.Shadow.Update every N ms (0 = off)')
    .option('--log-interval <ms>', 'periodic Log line every N ms (0 = off)')
    .option('--auth-query', 'send the password as ?access_token= instead of a Bearer header')
    .option('--seed <n>', 'seed for repeatable faults')
    .option('--drop-after <ms>', 'fault: drop each connection N ms after it opens')
    .option('--reply-delay <ms>', 'fault: delay every reply by N ms')
    .option('--error-rate <0..1>', 'fault: answer this share of calls with an error')
    .option('--garbage-rate <0..1>', 'fault: send an invalid frame after this share of frames')
    .option('--refuse <methods>', 'fault: never answer these comma-separated methods')
    .option('--family <family>', 'firmware family: mos (default), arduino, or mixed')
    .option('--arch <arch>', 'Sys.GetInfo arch (default sim for mos, esp32 for arduino)')
    .option('--ota-reboot-delay <ms>', 'reboot this long after OTA.End (default 500)')
    .option('--boot-time <ms>', 'a reboot takes this long before reconnecting (default 0)')
    .option('--ota-fail-at-write <n>', 'fault: error reply to the Nth OTA.Write of an update')
    .option('--ota-drop-at-write <n>', 'fault: drop the connection at the Nth OTA.Write')
    .option('--ota-rollback', 'fault: after OTA.End come back on the old firmware')
    .option('--ota-never-return', 'fault: after OTA.End go offline and stay offline')
    .option('--ota-write-delay <ms>', 'fault: hold every OTA.Write reply N ms (slow flash)')
    .option('--fault-share <0..1>', 'give the faults to this share of the devices (default 1)')
    .option('--stats-interval <ms>', 'print connected/ready counts every N ms (0 = off)', '5000')
    .option('--duration <s>', 'stop after N seconds (default: until Ctrl-C)')
    .action(async (f: SimFlags) => {
      if ((f.apiKey === undefined) === (f.passwords === undefined)) {
        throw new CliError('give exactly one of --api-key or --passwords');
      }
      const count = num(f.count, '--count', 0, 100_000) ?? 1;
      const faults = simFaults(f);
      const seed = num(f.seed, '--seed', 0, 2 ** 31);
      const fam = family(f.family);
      const otaRebootDelay = num(f.otaRebootDelay, '--ota-reboot-delay', 0, 600_000);
      const bootTime = num(f.bootTime, '--boot-time', 0, 600_000);
      const faultShare = num(f.faultShare, '--fault-share', 0, 1);
      const run = await runSimCommand(
        {
          url: f.url,
          count,
          ...(f.apiKey !== undefined && { apiKey: f.apiKey }),
          ...(f.passwords !== undefined && { passwordsFile: f.passwords }),
          ...(f.ramp !== undefined && { rampPerSecond: num(f.ramp, '--ramp', 0, 1e6) ?? 0 }),
          ...(f.shadowInterval !== undefined && {
            shadowIntervalMs: num(f.shadowInterval, '--shadow-interval', 0, 1e9) ?? 0,
          }),
          ...(f.logInterval !== undefined && {
            logIntervalMs: num(f.logInterval, '--log-interval', 0, 1e9) ?? 0,
          }),
          ...(f.authQuery && { authMode: 'query' as const }),
          ...(seed !== undefined && { seed }),
          ...(faults && { faults }),
          ...(fam !== undefined && { family: fam }),
          ...(f.arch !== undefined && { arch: f.arch }),
          ...(otaRebootDelay !== undefined && { otaRebootDelayMs: Math.floor(otaRebootDelay) }),
          ...(bootTime !== undefined && { bootTimeMs: Math.floor(bootTime) }),
          ...(faultShare !== undefined && { faultShare }),
        },
        (line) => console.log(line),
      );
      const every = num(f.statsInterval, '--stats-interval', 0, 1e9) ?? 0;
      const timer =
        every > 0
          ? setInterval(() => {
              const s = run.stats();
              console.log(`sim: ${s.connected}/${s.devices} connected, ${s.ready} ready`);
            }, every)
          : null;
      const duration = num(f.duration, '--duration', 0, 1e7);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
        if (duration !== undefined) setTimeout(resolve, duration * 1000);
      });
      if (timer) clearInterval(timer);
      await run.stop();
    });
}
