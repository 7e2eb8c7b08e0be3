/**
 * `fleetbench import --from <url> --key <key>` (issue 12): copies devices, customers and account
 * data from an mDash-compatible server (mdash.net, or another Fleetbench hub) into the running
 * local hub, through both servers' REST APIs (src/main/import/). The source key is a secret: it
 * is read from `--key` or FLEETBENCH_SOURCE_KEY and never printed.
 *
 * Exit codes: 0 done (or nothing to do), 1 something failed or a server refused, 2 usage,
 * 3 conflicts were skipped (see --overwrite).
 */
import type { Command } from 'commander';
import { DEFAULT_IMPORT } from '../config';
import { HubError } from '../../shared/errors';
import { endpointFrom, type Endpoint } from '../import/rest-client';
import { runImport } from '../import/run-import';
import { formatSummary, importExitCode } from '../import/import-summary';
import { TargetUnavailable } from '../import/target-hub';
import { CliError } from './cli-errors';
import { defaultDataDir } from './data-dir-option';
import { resolveHub } from './hub-client';

export interface ImportCliOptions {
  from?: string;
  key?: string;
  hub?: string;
  hubKey?: string;
  dataDir: string;
  dryRun?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

function endpoint(url: string, key: string, what: string): Endpoint {
  try {
    return endpointFrom(url, key);
  } catch (err) {
    throw new CliError(`${what}: ${(err as Error).message}`, 2);
  }
}

/** Progress on stderr, at most a line a second (long data copies). */
function progressLine(write: (s: string) => void): (line: string) => void {
  let last = 0;
  return (line) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    write(`${line}\n`);
  };
}

export async function importCommand(
  o: ImportCliOptions,
  io: { out(s: string): void; err(s: string): void } = {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
  },
): Promise<number> {
  if (o.from === undefined) throw new CliError('give the source server with --from <url>', 2);
  const sourceKey = o.key ?? process.env['FLEETBENCH_SOURCE_KEY'];
  if (sourceKey === undefined || sourceKey === '') {
    throw new CliError(
      'give a master API key of the source with --key (or FLEETBENCH_SOURCE_KEY)',
      2,
    );
  }
  // The local hub as every hub command finds it; `--key` here is the source's, hence --hub-key.
  const hub = resolveHub({ hub: o.hub, key: o.hubKey, dataDir: o.dataDir }, '--hub-key');
  const from = endpoint(o.from, sourceKey, '--from');
  const to = endpoint(hub.base, hub.key, '--hub');
  try {
    const summary = await runImport(from, to, {
      dryRun: o.dryRun === true,
      overwrite: o.overwrite === true,
      limits: DEFAULT_IMPORT,
      progress: progressLine(io.err),
    });
    io.out(o.json === true ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
    return importExitCode(summary);
  } catch (err) {
    if (err instanceof HubError) {
      if (o.json === true) io.out(`${JSON.stringify(err.toBody())}\n`);
      throw err;
    }
    if (err instanceof TargetUnavailable) throw new CliError(err.message, 1);
    throw err;
  }
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      'copy devices, customers and data from an mDash-compatible server into the running hub; exit 0 done, 1 failed, 2 usage, 3 conflicts skipped',
    )
    .option('--from <url>', 'the source server (https://mdash.net, http://<hub>:8009)')
    .option(
      '--key <key>',
      'a master API key of the source (env FLEETBENCH_SOURCE_KEY); never printed',
    )
    .option('--hub <url>', 'the local hub (env FLEETBENCH_HUB)', process.env['FLEETBENCH_HUB'])
    .option(
      '--hub-key <key>',
      'the local hub master key (env FLEETBENCH_API_KEY; default: the data dir key)',
    )
    .option(
      '--data-dir <dir>',
      'where to read master.key when --hub-key is not given',
      defaultDataDir(),
    )
    .option('--dry-run', 'print what would be created, updated or skipped; write nothing')
    .option('--overwrite', 'replace local devices and customers whose password or key differs')
    .option('--json', 'print the summary as JSON')
    .action(async (o: ImportCliOptions) => {
      const code = await importCommand(o);
      if (code !== 0) {
        throw new CliError(
          code === 3
            ? 'conflicts were skipped (see above; --overwrite replaces)'
            : 'some items failed (see above)',
          code,
        );
      }
    });
}
