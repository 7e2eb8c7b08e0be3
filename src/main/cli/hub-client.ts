/**
 * What the CLI commands that talk to a running hub over REST share (`ota`, `rollout`, `backup`,
 * `import`): the
 * `--hub` / `--key` / `--data-dir` options, the key lookup (flag, env, the data dir's
 * master.key) and one request helper that turns a refusal into a one-line CliError.
 */
import type { Command } from 'commander';
import { DEFAULT_PORT } from '../config';
import { readMasterKeyFile } from '../store/data-dir';
import { CliError } from './cli-errors';
import { defaultDataDir } from './data-dir-option';

export interface Hub {
  base: string;
  key: string;
}

/** The options added by `addHubOptions`, as commander hands them to the action. */
export interface HubCliOptions {
  hub?: string;
  key?: string;
  dataDir: string;
}

export function addHubOptions(cmd: Command): Command {
  return cmd
    .option('--hub <url>', 'the hub (env FLEETBENCH_HUB)', process.env['FLEETBENCH_HUB'])
    .option('--key <key>', 'a master API key (env FLEETBENCH_API_KEY; default: the data dir key)')
    .option(
      '--data-dir <dir>',
      'where to read master.key when --key is not given',
      defaultDataDir(),
    );
}

/** A checked hub address (usage error, exit 2, when it is no URL). */
export function hubAt(url: string, key: string): Hub {
  try {
    return { base: new URL(url).toString(), key };
  } catch {
    throw new CliError(`--hub: '${url}' is not a URL (e.g. http://192.168.1.10:8009)`, 2);
  }
}

/**
 * The hub and key from the options, the environment or the data dir (exit 2 without a key).
 * `keyFlag` names the option in the message (`import` calls it `--hub-key`: its `--key` is the
 * source's).
 */
export function resolveHub(o: HubCliOptions, keyFlag = '--key'): Hub {
  const key = o.key ?? process.env['FLEETBENCH_API_KEY'] ?? readMasterKeyFile(o.dataDir);
  if (key === null || key === '') {
    throw new CliError(`give a master API key with ${keyFlag} (or FLEETBENCH_API_KEY)`, 2);
  }
  return hubAt(o.hub ?? `http://127.0.0.1:${DEFAULT_PORT}`, key);
}

/** One REST call; the parsed JSON reply, or a CliError naming the status and the hub's message. */
export async function hubRequest(
  hub: Hub,
  method: string,
  path: string,
  body?: BodyInit,
  json = false,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, hub.base), {
      method,
      headers: {
        authorization: `Bearer ${hub.key}`,
        ...(json && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body }),
    });
  } catch (err) {
    throw new CliError(`cannot reach the hub at ${hub.base}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const error = (value as { error?: { message?: string; code?: number } } | null)?.error;
    const msg = error?.message ?? text.slice(0, 200);
    const code = typeof error?.code === 'number' ? ` (code ${error.code})` : '';
    throw new CliError(`hub answered ${res.status}: ${msg}${code}`);
  }
  return value;
}

/** A JSON body call. */
export const hubJson = (hub: Hub, method: string, path: string, body: unknown): Promise<unknown> =>
  hubRequest(hub, method, path, JSON.stringify(body), true);
