/**
 * `fleetbench firmware add|ls|rm` (issue 8, interfaces): the firmware library of a data dir,
 * worked on directly like `keys` and `devices` (store-commands.ts), also while a hub runs on it:
 * rows go through SQLite (WAL), files into `<dataDir>/firmware/<sha256>`, so the running hub
 * sees an added firmware at once. Prints JSON. `rm` refuses a firmware that a running or paused
 * rollout sends (the hub's 409 `conflict`), read from the rollouts stored in the same registry.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_FIRMWARE } from '../config';
import { FirmwareLibrary } from '../firmware/firmware-library';
import { REGISTRY_FILE } from '../store/data-dir';
import type { StoredRollout } from '../store/rollouts-repo';
import { openStore } from '../store/store';
import type { FirmwareObject } from '../../shared/firmware';
import { CliError } from './cli-errors';
import { defaultDataDir } from './data-dir-option';

async function withLibrary<T>(
  dataDir: string,
  create: boolean,
  fn: (library: FirmwareLibrary) => Promise<T>,
): Promise<T> {
  if (!create && !existsSync(join(dataDir, REGISTRY_FILE))) {
    throw new CliError(
      `no Fleetbench data in ${dataDir}: run 'fleetbench serve' once or pass --data-dir`,
    );
  }
  const store = openStore(dataDir, 0);
  try {
    const library = new FirmwareLibrary(dataDir, store.firmware, DEFAULT_FIRMWARE);
    // Read at the moment of the check: a hub on this data dir may start a rollout meanwhile.
    library.setInUseCheck((id) => store.rollouts.loadAll().some((s) => rolloutUses(s, id)));
    return await fn(library);
  } finally {
    store.close();
  }
}

/**
 * Whether a stored rollout is active (running or paused) and sends this firmware, as the
 * rollout's or as one device's own (rollback rollouts send each device its previous one).
 */
export function rolloutUses({ rollout, devices }: StoredRollout, firmwareId: string): boolean {
  if (rollout.state !== 'running' && rollout.state !== 'paused') return false;
  return rollout.spec.firmware === firmwareId || devices.some((d) => d.firmware === firmwareId);
}

export function firmwareAdd(
  dataDir: string,
  file: string,
  opts: { elf?: string; notes?: string } = {},
): Promise<FirmwareObject & { added: boolean }> {
  return withLibrary(dataDir, true, async (lib) => {
    const r = await lib.add(file, {
      ...(opts.elf !== undefined && { elf: opts.elf }),
      ...(opts.notes !== undefined && { notes: opts.notes }),
    });
    return { ...r.firmware, added: r.created };
  });
}

export const firmwareList = (dataDir: string): Promise<FirmwareObject[]> =>
  withLibrary(dataDir, false, (lib) => Promise.resolve(lib.list()));

export const firmwareRemove = (dataDir: string, id: string): Promise<true> =>
  withLibrary(dataDir, false, (lib) => lib.remove(id));

const printJson = (v: unknown): void =>
  void process.stdout.write(JSON.stringify(v, null, 2) + '\n');

export function registerFirmwareCommands(program: Command): void {
  const dataDirOpt = [
    '--data-dir <dir>',
    'data directory (env FLEETBENCH_DATA_DIR)',
    defaultDataDir(),
  ] as const;
  const firmware = program
    .command('firmware')
    .description('the firmware library of a data dir: fw.zip and ESP app images (prints JSON)');
  firmware
    .command('add <file>')
    .description('add a fw.zip or ESP app .bin; the same bytes again print the existing one')
    .option('--elf <file>', "the image's ELF (for decoding crashes)")
    .option('--notes <text>', 'free text shown with the firmware')
    .option(...dataDirOpt)
    .action(async (file: string, o: { dataDir: string; elf?: string; notes?: string }) =>
      printJson(
        await firmwareAdd(o.dataDir, file, {
          ...(o.elf !== undefined && { elf: o.elf }),
          ...(o.notes !== undefined && { notes: o.notes }),
        }),
      ),
    );
  firmware
    .command('ls')
    .description('list the firmware in the library')
    .option(...dataDirOpt)
    .action(async (o: { dataDir: string }) => printJson(await firmwareList(o.dataDir)));
  firmware
    .command('rm <id>')
    .description('delete a firmware and its files (refused while an active rollout uses it)')
    .option(...dataDirOpt)
    .action(async (id: string, o: { dataDir: string }) =>
      printJson(await firmwareRemove(o.dataDir, id)),
    );
}
