/**
 * The CLI's command table (what `--help` lists without loading any command) says exactly what
 * the real definitions say: a drifted description or argument list fails here, not in a user's
 * terminal.
 */
import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_TABLE, commandNameOf } from '../../../src/main/cli/command-table';

describe('command table', () => {
  it('matches every real command definition (term, description, hidden) and misses none', async () => {
    const help = new Help();
    const seen = new Set<string>();
    for (const load of new Set(COMMAND_TABLE.map((r) => r.load))) {
      const program = new Command('fleetbench');
      (await load())(program);
      const visible = new Set(help.visibleCommands(program));
      for (const cmd of program.commands) {
        const row = COMMAND_TABLE.find((r) => r.name === cmd.name());
        expect(row, `no table row for ${cmd.name()}`).toBeDefined();
        expect(row?.load).toBe(load);
        expect(row?.term).toBe(help.subcommandTerm(cmd));
        expect(row?.description).toBe(cmd.description());
        expect(row?.hidden === true).toBe(!visible.has(cmd));
        seen.add(cmd.name());
      }
    }
    expect([...seen].sort()).toEqual(COMMAND_TABLE.map((r) => r.name).sort());
  });

  it('finds the command an argv runs', () => {
    expect(commandNameOf(['--version'])).toBeNull();
    expect(commandNameOf([])).toBeNull();
    expect(commandNameOf(['help'])).toBeNull();
    expect(commandNameOf(['help', 'flash'])).toBe('flash');
    expect(commandNameOf(['serve', '--port', '0'])).toBe('serve');
    expect(commandNameOf(['-h', 'keys', 'list'])).toBe('keys');
  });
});
