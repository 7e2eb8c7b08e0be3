/**
 * Headless entry (`fleetbench ...`): serve | sim | keys | devices, plus the flasher commands.
 * Every command has --help; failures print one line and exit non-zero.
 *
 * Only the module of the command being run is loaded (src/main/cli/command-table.ts): `--version`
 * and `--help` load commander and this file, never the hub, the flasher or typebox (issue 11,
 * CLI cold start; test/integration/cli/cli-cold-start.test.ts checks it).
 */
import { Command, CommanderError, Help } from 'commander';
import { APP_VERSION } from './version';
import { CliError, describeError } from './cli/cli-errors';
import { COMMAND_TABLE, commandNameOf } from './cli/command-table';

/**
 * The program for `argv`: the real definition of the command it runs (when it names one), stubs
 * with the same help line for every other command.
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('fleetbench')
    .description(
      'Local-first fleet manager for ESP32 and STM32 devices (mDash-compatible hub + USB flasher)',
    )
    .version(APP_VERSION)
    .showHelpAfterError('(run with --help for usage)');

  const name = commandNameOf(argv.slice(2));
  const row = COMMAND_TABLE.find((r) => r.name === name);
  if (row) (await row.load())(program);

  const stubTerms = new Map<Command, string>();
  for (const r of COMMAND_TABLE) {
    if (program.commands.some((c) => c.name() === r.name)) continue;
    const stub = program.command(r.name, { hidden: r.hidden === true }).description(r.description);
    stubTerms.set(stub, r.term);
  }
  // A real module may add its commands in any order; the help lists them in the table's.
  const order = (c: Command): number => COMMAND_TABLE.findIndex((r) => r.name === c.name());
  (program.commands as Command[]).sort((a, b) => order(a) - order(b));
  program.configureHelp({
    subcommandTerm(cmd: Command): string {
      return stubTerms.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
    },
  });
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  try {
    const program = await buildProgram(argv);
    program.exitOverride();
    program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
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
