/**
 * Every top-level `fleetbench` command, with what its top-level --help line shows and where its
 * real definition lives. The CLI entry loads only the module of the command being run (a dynamic
 * import, a chunk of its own in the built bundle), so `--version` and `--help` start in a fraction
 * of the time the hub, the flasher and typebox take to load (issue 11). The other commands are
 * stubs built from this table: the top-level help and commander's "did you mean" still list them.
 *
 * This module must stay light: commander types only. test/unit/cli/command-table.test.ts checks
 * every row against the real definition (name, help term, description, hidden).
 */
import type { Command } from 'commander';

/** A module's `register*` function: adds its command(s) to the program. */
export type RegisterCommands = (program: Command) => void;

export interface CommandRow {
  name: string;
  /** The command's term in the top-level help, as commander renders the real definition. */
  term: string;
  description: string;
  hidden?: boolean;
  load: () => Promise<RegisterCommands>;
}

const serveCli = async (): Promise<RegisterCommands> =>
  (await import('./serve-cli')).registerServeCommand;
const storeCli = async (): Promise<RegisterCommands> =>
  (await import('./store-cli')).registerStoreCommands;
const simCli = async (): Promise<RegisterCommands> =>
  (await import('./sim-cli')).registerSimCommand;
const demoFleet = async (): Promise<RegisterCommands> =>
  (await import('./demo-fleet')).registerDemoFleetChild;
const flasherCli = async (): Promise<RegisterCommands> =>
  (await import('./flasher-cli')).registerFlasherCommands;
const firmwareCli = async (): Promise<RegisterCommands> =>
  (await import('./firmware-cli')).registerFirmwareCommands;
const otaCli = async (): Promise<RegisterCommands> =>
  (await import('./ota-cli')).registerOtaCommand;
const rolloutCli = async (): Promise<RegisterCommands> =>
  (await import('./rollout-cli')).registerRolloutCommands;
const sqlCli = async (): Promise<RegisterCommands> =>
  (await import('./sql-cli')).registerSqlCommands;
const backupCli = async (): Promise<RegisterCommands> =>
  (await import('./backup-cli')).registerBackupCommands;
const importCli = async (): Promise<RegisterCommands> =>
  (await import('./import-cli')).registerImportCommand;
const hubsCli = async (): Promise<RegisterCommands> =>
  (await import('./hubs-cli')).registerHubsCommand;
const doctorCli = async (): Promise<RegisterCommands> =>
  (await import('./doctor-cli')).registerDoctorCommand;

/** In the order of the top-level help. */
export const COMMAND_TABLE: readonly CommandRow[] = [
  {
    name: 'serve',
    term: 'serve [options]',
    description: 'run the hub: device gateway, REST API and dashboard',
    load: serveCli,
  },
  {
    name: 'keys',
    term: 'keys',
    description: 'manage master API keys in a data dir (prints JSON)',
    load: storeCli,
  },
  {
    name: 'devices',
    term: 'devices',
    description: 'manage registered devices in a data dir (prints JSON)',
    load: storeCli,
  },
  {
    name: 'sim',
    term: 'sim [options]',
    description: 'run simulated mDash devices against a hub (load generator and demo)',
    load: simCli,
  },
  {
    name: 'demo-fleet-child',
    term: 'demo-fleet-child',
    description: 'runs the devices of serve --demo (started by the hub)',
    hidden: true,
    load: demoFleet,
  },
  {
    name: 'ports',
    term: 'ports [options]',
    description: 'list serial ports (USB vendor/product ids, serial number, name)',
    load: flasherCli,
  },
  {
    name: 'flash',
    term: 'flash [options] <image...>',
    description: 'flash ESP32 (esptool protocol) or STM32 (AN3155 bootloader) firmware over serial',
    load: flasherCli,
  },
  {
    name: 'monitor',
    term: 'monitor [options]',
    description: 'serial monitor: board output to stdout, stdin to the board, decoded ESP32 panics',
    load: flasherCli,
  },
  {
    name: 'bench',
    term: 'bench [options] <image...>',
    description: 'flash (and provision) several boards at once; one result row per port',
    load: flasherCli,
  },
  {
    name: 'firmware',
    term: 'firmware',
    description: 'the firmware library of a data dir: fw.zip and ESP app images (prints JSON)',
    load: firmwareCli,
  },
  {
    name: 'ota',
    term: 'ota [options] <device> <file-or-firmware-id>',
    description:
      'update one device over the air through a running hub; exit 0 done, 1 failed, 3 rolled back, 4 cancelled',
    load: otaCli,
  },
  {
    name: 'rollout',
    term: 'rollout',
    description:
      'staged fleet rollouts through a running hub; exit 0 ok, 1 refused, 2 usage, 3 completed with failures, 4 aborted, 5 paused',
    load: rolloutCli,
  },
  {
    name: 'sql',
    term: 'sql [options] <query>',
    description: "run one SQL statement on a running hub's account database",
    load: sqlCli,
  },
  {
    name: 'db',
    term: 'db',
    description: "the hub's account database",
    load: sqlCli,
  },
  {
    name: 'backup',
    term: 'backup [options] <file>',
    description:
      'write one consistent archive of a hub (running: through its REST API; stopped: from --data-dir)',
    load: backupCli,
  },
  {
    name: 'restore',
    term: 'restore [options] <file>',
    description:
      "replace a stopped hub's data dir with a backup (verified first; the old dir is kept)",
    load: backupCli,
  },
  {
    name: 'import',
    term: 'import [options]',
    description:
      'copy devices, customers and data from an mDash-compatible server into the running hub; exit 0 done, 1 failed, 2 usage, 3 conflicts skipped',
    load: importCli,
  },
  {
    name: 'doctor',
    term: 'doctor [options]',
    description:
      'check what a site needs (LAN address, ports, SNTP/DNS, TLS certificate, clock) and print a fix for each failure; exit 0 no failure, 1 a check failed',
    load: doctorCli,
  },
  {
    name: 'hubs',
    term: 'hubs [options]',
    description: 'list the Fleetbench hubs advertised on the LAN by mDNS (this one marked)',
    load: hubsCli,
  },
];

/**
 * The top-level command an argv runs (`help <name>` counts as `<name>`), or null for none (bare
 * `--version`, `--help`, or nothing). Top-level options take no values, so the first word that is
 * not an option is the command.
 */
export function commandNameOf(args: readonly string[]): string | null {
  const words = args.filter((a) => !a.startsWith('-'));
  const first = words[0];
  if (first === undefined) return null;
  if (first === 'help') return words[1] ?? null;
  return first;
}
