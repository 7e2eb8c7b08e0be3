/**
 * `fleetbench rollout create|ls|show|pause|resume|abort|retry` (issue 8, interfaces): staged
 * rollouts through a running hub's REST API (PROTOCOL.md 9), with the hub options of `ota`.
 * Prints a readable summary (waves, counts, failed devices with their reasons); `--json` prints
 * the hub's objects instead.
 *
 * Exit codes: 0 success (`show --follow`: completed with no failed device), 1 the hub refused or
 * could not be reached (abort: also when the requested rollback could not start), 2 usage,
 * 3 completed with failed devices, 4 aborted, 5 paused (`show --follow` stops there: a paused
 * rollout waits for a person).
 */
import type { Command } from 'commander';
import Type from 'typebox';
import {
  ROLLOUT_STATES,
  type Rollout,
  type RolloutDevice,
  type RolloutPreview,
} from '../../shared/ota';
import { isValid } from '../validate';
import { CliError } from './cli-errors';
import {
  addHubOptions,
  hubJson,
  hubRequest,
  resolveHub,
  type Hub,
  type HubCliOptions,
} from './hub-client';

export const ROLLOUT_EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  failures: 3,
  aborted: 4,
  paused: 5,
} as const;
export const ROLLOUT_POLL_MS = 500;

const Counts = Type.Object({
  pending: Type.Number(),
  updating: Type.Number(),
  done: Type.Number(),
  failed: Type.Number(),
  skipped: Type.Number(),
});
const RolloutShape = Type.Object({
  id: Type.String(),
  firmware: Type.String(),
  state: Type.String(),
  waves: Type.Array(Type.Object({ size: Type.Number(), state: Type.String() })),
  counts: Counts,
});

function asRollout(v: unknown): Rollout {
  const states: readonly string[] = ROLLOUT_STATES;
  if (!isValid(RolloutShape, v) || !states.includes(v.state)) {
    throw new CliError('the hub returned an unexpected rollout object');
  }
  // The fields read here are checked above; the rest is printed as the hub sent it.
  return v as unknown as Rollout;
}

// ---- options -------------------------------------------------------------------------------

const AMOUNT = /^(\d{1,9}|\d{1,3}(\.\d{1,3})?%)$/;

/** `5` -> 5, `"10%"` kept as text (PROTOCOL.md 9); usage error (exit 2) otherwise. */
export function parseAmount(text: string, flag: string): number | string {
  const t = text.trim();
  if (!AMOUNT.test(t) || t === '0') {
    throw new CliError(`${flag}: '${text}' is not a count (5) or a share (10%)`, 2);
  }
  return t.endsWith('%') ? t : Number(t);
}

function parseWhole(text: string, flag: string, min: number): number {
  if (!/^\d{1,9}$/.test(text.trim()) || Number(text) < min) {
    throw new CliError(`${flag}: '${text}' is not a whole number >= ${min}`, 2);
  }
  return Number(text);
}

const list = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export interface CreateOptions {
  firmware?: string;
  devices?: string;
  labels?: string;
  waves?: string;
  maxFailures?: string;
  health?: string;
  concurrency?: string;
  skipCurrent?: boolean;
  offline?: string;
  waveSuccess?: string;
}

/** The POST /rollouts body from the flags; options left out take the hub's defaults. */
export function rolloutBody(o: CreateOptions): Record<string, unknown> {
  if (o.firmware === undefined || o.firmware === '') {
    throw new CliError(
      '--firmware: give the library firmware to roll out (fleetbench firmware ls)',
      2,
    );
  }
  if (o.devices === undefined && o.labels === undefined) {
    throw new CliError('give the target: --devices d1,d2 and/or --labels a,b', 2);
  }
  if (o.offline !== undefined && o.offline !== 'wait' && o.offline !== 'skip') {
    throw new CliError(`--offline: '${o.offline}' is neither wait nor skip`, 2);
  }
  return {
    firmware: o.firmware,
    ...(o.devices !== undefined && { devices: list(o.devices) }),
    ...(o.labels !== undefined && { labels: list(o.labels).join(',') }),
    ...(o.waves !== undefined && { waves: list(o.waves).map((w) => parseAmount(w, '--waves')) }),
    ...(o.maxFailures !== undefined && {
      max_failures: parseAmount(o.maxFailures, '--max-failures'),
    }),
    ...(o.health !== undefined && { health_s: parseWhole(o.health, '--health', 0) }),
    ...(o.concurrency !== undefined && {
      concurrency: parseWhole(o.concurrency, '--concurrency', 1),
    }),
    ...(o.skipCurrent !== undefined && { skip_current: o.skipCurrent }),
    ...(o.offline !== undefined && { offline: o.offline }),
    ...(o.waveSuccess !== undefined && {
      wave_success: parseAmount(o.waveSuccess, '--wave-success'),
    }),
  };
}

// ---- output --------------------------------------------------------------------------------

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const FAILED_STATES: readonly string[] = ['failed', 'rolled_back', 'cancelled'];

/** The readable view of one rollout: state, waves, counts and each failed device's reason. */
export function describeRollout(r: Rollout): string {
  const lines = [
    `rollout ${r.id}  firmware ${r.firmware}  ${r.state}` +
      (r.rollback_of !== undefined ? `  (rollback of ${r.rollback_of})` : ''),
  ];
  if (r.reason !== undefined) lines.push(`  reason: ${r.reason}`);
  r.waves.forEach((w, i) => lines.push(`  wave ${i + 1}: ${plural(w.size, 'device')}, ${w.state}`));
  const c = r.counts;
  lines.push(
    `  pending ${c.pending}  updating ${c.updating}  done ${c.done}  failed ${c.failed}  skipped ${c.skipped}`,
  );
  const failed = (r.devices ?? []).filter((d: RolloutDevice) => FAILED_STATES.includes(d.state));
  if (failed.length > 0) lines.push('  failed devices:');
  for (const d of failed) {
    const why = d.error ? `${d.error.code}: ${d.error.message}` : 'no reason given';
    lines.push(`    ${d.id}  ${d.state}  ${why}`);
  }
  for (const u of r.unavailable ?? []) lines.push(`  not included: ${u.id} (${u.reason})`);
  return lines.join('\n') + '\n';
}

/** What a rollout's end means as an exit code. */
export function rolloutExit(r: Rollout): number {
  if (r.state === 'aborted') return ROLLOUT_EXIT.aborted;
  if (r.state === 'paused') return ROLLOUT_EXIT.paused;
  if (r.state === 'completed' && r.counts.failed > 0) return ROLLOUT_EXIT.failures;
  return ROLLOUT_EXIT.ok;
}

interface Io {
  out(s: string): void;
  err(s: string): void;
  json: boolean;
}

const print = (io: Io, value: unknown, text: string): void =>
  io.out(io.json ? JSON.stringify(value, null, 2) + '\n' : text);

const rolloutPath = (id: string, action = ''): string =>
  `/api/v2/rollouts/${encodeURIComponent(id)}${action === '' ? '' : `/${action}`}`;

// ---- commands ------------------------------------------------------------------------------

export async function rolloutCreate(hub: Hub, o: CreateOptions, io: Io): Promise<number> {
  const body = rolloutBody(o);
  const preview = (await hubJson(hub, 'POST', '/api/v2/rollouts/preview', body)) as RolloutPreview;
  const created = asRollout(await hubJson(hub, 'POST', '/api/v2/rollouts', body));
  const lines = [describeRollout(created).trimEnd()];
  lines.push(
    `  ${plural(preview.total, 'device')} in ${plural(preview.waves.length, 'wave')}: ` +
      preview.waves.join(' + ') +
      `; skipped ${preview.skipped.current} already current, ${preview.skipped.offline} offline` +
      `; ${preview.offline_waiting} offline waited for; pauses at ${plural(preview.max_failures, 'failure')}`,
  );
  print(io, created, lines.join('\n') + '\n');
  return ROLLOUT_EXIT.ok;
}

export async function rolloutList(hub: Hub, io: Io): Promise<number> {
  const all = await hubRequest(hub, 'GET', '/api/v2/rollouts');
  if (!Array.isArray(all)) throw new CliError('the hub returned an unexpected rollout list');
  const rollouts = all.map(asRollout);
  const rows = rollouts.map((r) => {
    const total = r.counts.pending + r.counts.updating + r.counts.done + r.counts.failed;
    return `${r.id}  ${r.state.padEnd(9)}  ${r.firmware}  ${r.counts.done}/${total} done, ${r.counts.failed} failed`;
  });
  print(io, rollouts, rows.length === 0 ? 'no rollouts\n' : rows.join('\n') + '\n');
  return ROLLOUT_EXIT.ok;
}

const ENDED: readonly string[] = ['completed', 'aborted', 'paused'];

/** One look, or with `follow` a look at every change until it completes, aborts or pauses. */
export async function rolloutShow(
  hub: Hub,
  id: string,
  follow: boolean,
  io: Io,
  signal?: AbortSignal,
): Promise<number> {
  let r = asRollout(await hubRequest(hub, 'GET', rolloutPath(id)));
  if (!follow) {
    print(io, r, describeRollout(r));
    return ROLLOUT_EXIT.ok;
  }
  let last = '';
  for (;;) {
    const view = describeRollout(r);
    if (view !== last && !io.json) io.out(view);
    last = view;
    if (ENDED.includes(r.state) || signal?.aborted === true) break;
    await new Promise((res) => setTimeout(res, ROLLOUT_POLL_MS));
    r = asRollout(await hubRequest(hub, 'GET', rolloutPath(id)));
  }
  if (io.json) io.out(JSON.stringify(r, null, 2) + '\n');
  if (signal?.aborted === true && !ENDED.includes(r.state)) {
    io.err('stopped following; the rollout goes on in the hub\n');
    return ROLLOUT_EXIT.ok;
  }
  return rolloutExit(r);
}

type AbortReply = Rollout & {
  rollback?: Rollout;
  rollback_error?: { code: string; message: string };
};

export async function rolloutAction(
  hub: Hub,
  id: string,
  action: 'pause' | 'resume' | 'retry' | 'abort',
  io: Io,
  rollback = false,
): Promise<number> {
  const reply = (await hubJson(
    hub,
    'POST',
    rolloutPath(id, action),
    rollback ? { rollback: true } : {},
  )) as AbortReply;
  const r = asRollout(reply);
  let text = describeRollout(r);
  if (reply.rollback !== undefined) {
    text += `rollback: sending the previous firmware back\n${describeRollout(asRollout(reply.rollback))}`;
  }
  print(io, reply, text);
  if (reply.rollback_error !== undefined) {
    io.err(
      `aborted, but no rollback started: ${reply.rollback_error.message} (${reply.rollback_error.code})\n`,
    );
    return ROLLOUT_EXIT.error;
  }
  return ROLLOUT_EXIT.ok;
}

// ---- registration --------------------------------------------------------------------------

const stdio = (json: boolean | undefined): Io => ({
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  json: json === true,
});

/** Runs a command body; a non-zero outcome becomes the process exit code. */
async function finish(code: Promise<number>, what: string): Promise<void> {
  const c = await code;
  if (c !== 0) throw new CliError(what, c);
}

export function registerRolloutCommands(program: Command): void {
  const rollout = program
    .command('rollout')
    .description(
      'staged fleet rollouts through a running hub; exit 0 ok, 1 refused, 2 usage, 3 completed with failures, 4 aborted, 5 paused',
    );
  const sub = (spec: string, description: string): Command =>
    addHubOptions(rollout.command(spec).description(description)).option(
      '--json',
      "print the hub's JSON instead of the summary",
    );

  sub('create', 'start a rollout of a library firmware; prints it with its waves')
    .option('--firmware <id>', 'the library firmware to send (required)')
    .option('--devices <ids>', 'comma-separated device ids')
    .option('--labels <labels>', 'comma-separated labels (tags.labels); any one matches')
    .option('--waves <list>', 'wave sizes, counts or shares, e.g. 1,10%,100% (default: one wave)')
    .option('--max-failures <n|n%>', 'failures that pause the rollout')
    .option('--health <seconds>', 'how long a device must stay online on the new firmware')
    .option('--concurrency <n>', 'devices updating at once')
    .option('--skip-current', 'skip devices that already run the firmware (the default)')
    .option('--no-skip-current', 'send the firmware to devices that already run it too')
    .option('--offline <wait|skip>', 'offline devices: wait for them, or skip them')
    .option('--wave-success <n|n%>', 'devices done before the next wave starts (default: all)')
    .action(async (o: HubCliOptions & CreateOptions & { json?: boolean }) =>
      finish(rolloutCreate(resolveHub(o), o, stdio(o.json)), 'rollout not created'),
    );

  sub('ls', 'list rollouts, oldest first').action(async (o: HubCliOptions & { json?: boolean }) =>
    finish(rolloutList(resolveHub(o), stdio(o.json)), 'cannot list rollouts'),
  );

  sub('show <id>', 'a rollout: waves, counts, failed devices with reasons')
    .option('--follow', 'refresh until it completes, aborts or pauses; exit code by outcome')
    .action(async (id: string, o: HubCliOptions & { json?: boolean; follow?: boolean }) => {
      const hub = resolveHub(o);
      const stop = new AbortController();
      const onSigint = (): void => stop.abort();
      process.once('SIGINT', onSigint);
      try {
        await finish(
          rolloutShow(hub, id, o.follow === true, stdio(o.json), stop.signal),
          `rollout ${id} did not complete cleanly`,
        );
      } finally {
        process.off('SIGINT', onSigint);
      }
    });

  for (const action of ['pause', 'resume', 'retry'] as const) {
    const what = {
      pause: 'pause a running rollout (updates in flight finish)',
      resume: 'resume a paused rollout (failures so far are acknowledged)',
      retry: 'send the firmware again to the failed devices',
    }[action];
    sub(`${action} <id>`, what).action(async (id: string, o: HubCliOptions & { json?: boolean }) =>
      finish(rolloutAction(resolveHub(o), id, action, stdio(o.json)), `rollout ${action} failed`),
    );
  }

  sub('abort <id>', 'stop a rollout for good')
    .option('--rollback', 'also send each updated device its previous firmware (a new rollout)')
    .action(async (id: string, o: HubCliOptions & { json?: boolean; rollback?: boolean }) =>
      finish(
        rolloutAction(resolveHub(o), id, 'abort', stdio(o.json), o.rollback === true),
        `rollout ${id}: rollback not started`,
      ),
    );
}
