/**
 * Headless entry (`fleetbench ...`): serve | sim | keys | devices, plus the flasher commands.
 * Every command has --help; failures print one line and exit non-zero.
 */
import { Command, CommanderError } from 'commander';
import { APP_VERSION } from './version';
import { CliError, describeError } from './cli/cli-errors';
import { defaultDataDir } from './cli/data-dir-option';
import { SERVE_DEFAULTS, parseCount, parsePort, parseTlsPort, serve } from './cli/serve-command';
import {
  devicesAdd,
  devicesList,
  devicesRemove,
  keysCreate,
  keysDelete,
  keysList,
} from './cli/store-commands';
import { registerSimCommand } from './cli/sim-cli';
import { registerDemoFleetChild } from './cli/demo-fleet';
import { registerFlasherCommands } from './cli/flasher-cli';
import { registerFirmwareCommands } from './cli/firmware-cli';
import { registerOtaCommand } from './cli/ota-cli';
import { registerRolloutCommands } from './cli/rollout-cli';
import { registerSqlCommands } from './cli/sql-cli';

const env = process.env;
const printJson = (v: unknown): void =>
  void process.stdout.write(JSON.stringify(v, null, 2) + '\n');

export function buildProgram(): Command {
  const program = new Command('fleetbench')
    .description(
      'Local-first fleet manager for ESP32 and STM32 devices (mDash-compatible hub + USB flasher)',
    )
    .version(APP_VERSION)
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('serve')
    .description('run the hub: device gateway, REST API and dashboard')
    .option(
      '--host <host>',
      'interface to bind (env FLEETBENCH_HOST)',
      env['FLEETBENCH_HOST'] ?? SERVE_DEFAULTS.host,
    )
    .option(
      '--port <port>',
      'TCP port (env FLEETBENCH_PORT)',
      env['FLEETBENCH_PORT'] ?? String(SERVE_DEFAULTS.port),
    )
    .option(
      '--tls-port <port|off>',
      'https/wss port, or off (env FLEETBENCH_TLS_PORT)',
      env['FLEETBENCH_TLS_PORT'] ?? String(SERVE_DEFAULTS.tlsPort),
    )
    .option(
      '--tls-cert <file>',
      'PEM certificate to use instead of the local CA (env FLEETBENCH_TLS_CERT)',
      env['FLEETBENCH_TLS_CERT'],
    )
    .option(
      '--tls-key <file>',
      'PEM key of --tls-cert (env FLEETBENCH_TLS_KEY)',
      env['FLEETBENCH_TLS_KEY'],
    )
    .option('--data-dir <dir>', 'data directory (env FLEETBENCH_DATA_DIR)', defaultDataDir())
    .option(
      '--extra-ports <paths>',
      'comma-separated serial paths to list as ports, e.g. simulator ptys (env FLEETBENCH_EXTRA_PORTS)',
      env['FLEETBENCH_EXTRA_PORTS'],
    )
    .option(
      '--flash-concurrency <n>',
      'flash jobs running at once (env FLEETBENCH_FLASH_CONCURRENCY)',
      env['FLEETBENCH_FLASH_CONCURRENCY'] ?? '4',
    )
    .option(
      '--demo <n>',
      'also run N simulated devices, in a child process (env FLEETBENCH_DEMO)',
      env['FLEETBENCH_DEMO'] ?? '0',
    )
    .option(
      '--public-host <host>',
      'host name devices should use in the printed device URL (env FLEETBENCH_PUBLIC_HOST)',
      env['FLEETBENCH_PUBLIC_HOST'],
    )
    .option(
      '--log-level <level>',
      'silent|error|warn|info|debug (env FLEETBENCH_LOG_LEVEL)',
      env['FLEETBENCH_LOG_LEVEL'] ?? SERVE_DEFAULTS.logLevel,
    )
    .action(
      async (o: {
        host: string;
        port: string;
        tlsPort: string;
        extraPorts?: string;
        flashConcurrency: string;
        tlsCert?: string;
        tlsKey?: string;
        dataDir: string;
        demo: string;
        publicHost?: string;
        logLevel: string;
      }) => {
        const stop = await serve(
          {
            host: o.host,
            tlsPort: parseTlsPort(o.tlsPort),
            flashConcurrency: Math.max(
              1,
              parseCount(o.flashConcurrency, '--flash-concurrency', 64),
            ),
            ...(o.extraPorts !== undefined && {
              extraPorts: o.extraPorts
                .split(',')
                .map((p) => p.trim())
                .filter(Boolean),
            }),
            ...(o.tlsCert !== undefined && { tlsCert: o.tlsCert }),
            ...(o.tlsKey !== undefined && { tlsKey: o.tlsKey }),
            port: parsePort(o.port),
            dataDir: o.dataDir,
            demo: parseCount(o.demo, '--demo'),
            logLevel: o.logLevel,
            ...(o.publicHost !== undefined && { publicHost: o.publicHost }),
          },
          (line) => console.log(line),
        );
        await new Promise<void>((resolve) => {
          const shutdown = (): void => {
            console.log('stopping...');
            void stop().then(resolve, resolve);
          };
          process.once('SIGINT', shutdown);
          process.once('SIGTERM', shutdown);
        });
      },
    );

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

  registerSimCommand(program);
  registerDemoFleetChild(program);
  registerFlasherCommands(program);
  registerFirmwareCommands(program);
  registerOtaCommand(program);
  registerRolloutCommands(program);
  registerSqlCommands(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      return err.exitCode;
    }
    process.stderr.write(`fleetbench: error: ${describeError(err)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
