/**
 * `fleetbench keys` and `fleetbench devices`: the data dir's master keys and device registry,
 * printed as JSON. Loaded only when one of them runs (src/main/cli/command-table.ts).
 */
import type { Command } from 'commander';
import { defaultDataDir } from './data-dir-option';
import {
  devicesAdd,
  devicesList,
  devicesRemove,
  keysCreate,
  keysDelete,
  keysList,
} from './store-commands';

const printJson = (v: unknown): void =>
  void process.stdout.write(JSON.stringify(v, null, 2) + '\n');

export function registerStoreCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('manage master API keys in a data dir (prints JSON)');
  const dataDirOpt = [
    '--data-dir <dir>',
    'data directory (env FLEETBENCH_DATA_DIR)',
    defaultDataDir(),
  ] as const;
  keys
    .command('create')
    .description('create a key; its secret is shown only now')
    .option(...dataDirOpt)
    .action(async (o: { dataDir: string }) => printJson(await keysCreate(o.dataDir)));
  keys
    .command('list')
    .description('list keys (ids, never secrets)')
    .option(...dataDirOpt)
    .action(async (o: { dataDir: string }) => printJson(await keysList(o.dataDir)));
  keys
    .command('delete <id>')
    .description('delete a key')
    .option(...dataDirOpt)
    .action(async (id: string, o: { dataDir: string }) =>
      printJson(await keysDelete(o.dataDir, id)),
    );

  const devices = program
    .command('devices')
    .description('manage registered devices in a data dir (prints JSON)');
  devices
    .command('add')
    .description('register a device; prints it with its password (token)')
    .option('--name <name>', 'display name')
    .option('--id <id>', 'device id (default: generated)')
    .option(...dataDirOpt)
    .action(async (o: { dataDir: string; name?: string; id?: string }) =>
      printJson(
        await devicesAdd(o.dataDir, {
          ...(o.name !== undefined && { name: o.name }),
          ...(o.id !== undefined && { id: o.id }),
        }),
      ),
    );
  devices
    .command('list')
    .description('list devices')
    .option(...dataDirOpt)
    .action(async (o: { dataDir: string }) => printJson(await devicesList(o.dataDir)));
  devices
    .command('remove <id>')
    .description('delete a device')
    .option(...dataDirOpt)
    .action(async (id: string, o: { dataDir: string }) =>
      printJson(await devicesRemove(o.dataDir, id)),
    );
}
