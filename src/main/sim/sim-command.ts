/**
 * The core of `fleetbench sim`: connect N simulated devices to a hub. Either the devices are
 * created through the hub's REST API with a master key (`POST /api/v2/devices`, PROTOCOL.md 4,
 * whose reply carries each device's `token`), or their passwords come from a file, one a line.
 * The CLI wrapper (src/main/cli.ts) only parses flags and prints the log lines.
 */
import { readFile } from 'node:fs/promises';
import Type from 'typebox';
import { HubError } from '../../shared/errors';
import { firstProblem, isValid } from '../validate';
import { SimFleet, type SimFleetStats } from './sim-fleet';
import type { SimDeviceOptions } from './sim-device';

/** Longest delay a Node timer takes; larger ones fire at once (with a warning). */
const MAX_TIMER_MS = 2_147_483_647;
const Ms = (minimum: number) => Type.Integer({ minimum, maximum: MAX_TIMER_MS });

export const SimCommandSchema = Type.Object({
  url: Type.String({ minLength: 1 }),
  /** Devices to run; with `passwordsFile`, 0 means one per line of the file. */
  count: Type.Integer({ minimum: 0, maximum: 100_000 }),
  apiKey: Type.Optional(Type.String({ minLength: 1 })),
  passwordsFile: Type.Optional(Type.String({ minLength: 1 })),
  /** Name prefix of created devices: `sim-1`, `sim-2`, ... */
  namePrefix: Type.Optional(Type.String({ minLength: 1 })),
  rampPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
  shadowIntervalMs: Type.Optional(Ms(0)),
  logIntervalMs: Type.Optional(Ms(0)),
  /** A sensor reading stored (spooled, then drained by the hub) every this many ms; 0 = off. */
  dataIntervalMs: Type.Optional(Ms(0)),
  authMode: Type.Optional(Type.Union([Type.Literal('bearer'), Type.Literal('query')])),
  seed: Type.Optional(
    Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }),
  ),
  /** Progress line every this many ms while devices connect; 0 = only the final line. */
  progressIntervalMs: Type.Optional(Ms(0)),
  /** REST request timeout. Default 10 s. */
  requestTimeoutMs: Type.Optional(Ms(1)),
  /** Firmware family (PROTOCOL.md 6); 'mixed' alternates Mongoose OS and Arduino. */
  family: Type.Optional(
    Type.Union([Type.Literal('mos'), Type.Literal('arduino'), Type.Literal('mixed')]),
  ),
  /** Sys.GetInfo `arch` of every device. */
  arch: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  otaRebootDelayMs: Type.Optional(Ms(0)),
  bootTimeMs: Type.Optional(Ms(0)),
  /** Share of the devices (spread evenly over the fleet) that get `faults`. Default 1 (all). */
  faultShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});

export type SimCommandOptions = Type.Static<typeof SimCommandSchema> &
  Pick<SimDeviceOptions, 'faults' | 'reconnect' | 'tls' | 'subprotocol'> & {
    /** Passwords handed over in memory (`serve --demo`'s child process), one per device. */
    passwords?: string[];
  };

export interface SimRun {
  readonly fleet: SimFleet;
  stats(): SimFleetStats;
  stop(): Promise<void>;
}

/** Devices created in parallel through the REST API. */
const CREATE_CONCURRENCY = 8;

const CreatedDevice = Type.Object({ id: Type.String(), token: Type.String({ minLength: 1 }) });

/**
 * Whether device `index` is one of the `share` of a fleet that gets the faults: spread evenly
 * (0.25 -> every fourth device), so a small fleet still gets its share.
 */
export function hasFaults(index: number, share: number): boolean {
  return Math.floor((index + 1) * share) > Math.floor(index * share);
}

/** ws://host:port/any/path -> http://host:port (wss -> https); path and query dropped. */
export function httpBaseFromWs(wsUrl: string): string {
  const u = parseUrl(wsUrl);
  const scheme = u.protocol === 'wss:' ? 'https:' : 'http:';
  return `${scheme}//${u.host}`;
}

export async function runSimCommand(
  opts: SimCommandOptions,
  log: (line: string) => void,
): Promise<SimRun> {
  const { faults, reconnect, tls, subprotocol, passwords: given, ...plain } = opts;
  const problem = firstProblem(SimCommandSchema, plain);
  if (problem !== null) throw new HubError('validation_failed', problem);
  parseUrl(opts.url);
  const sources = [opts.apiKey, opts.passwordsFile, given].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new HubError('bad_request', 'give exactly one of apiKey, passwordsFile or passwords');
  }
  if (given?.some((p) => typeof p !== 'string' || p === '')) {
    throw new HubError('bad_request', 'passwords must be non-empty strings');
  }

  // Created devices report the hub's id in Sys.GetInfo; from a file or memory, ids are derived.
  const { passwords, ids } =
    given !== undefined
      ? { passwords: given, ids: undefined }
      : opts.passwordsFile !== undefined
        ? { passwords: await readPasswords(opts.passwordsFile, opts.count), ids: undefined }
        : await createDevices(opts, log);

  const fleet = new SimFleet({
    url: opts.url,
    passwords,
    ...(ids !== undefined ? { ids } : {}),
    ...(opts.authMode !== undefined ? { authMode: opts.authMode } : {}),
    ...(opts.rampPerSecond !== undefined ? { rampPerSecond: opts.rampPerSecond } : {}),
    ...(opts.shadowIntervalMs !== undefined ? { shadowIntervalMs: opts.shadowIntervalMs } : {}),
    ...(opts.logIntervalMs !== undefined ? { logIntervalMs: opts.logIntervalMs } : {}),
    ...(opts.dataIntervalMs !== undefined ? { dataIntervalMs: opts.dataIntervalMs } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.family !== undefined ? { family: opts.family } : {}),
    ...(opts.arch !== undefined ? { arch: opts.arch } : {}),
    ...(opts.otaRebootDelayMs !== undefined ? { otaRebootDelayMs: opts.otaRebootDelayMs } : {}),
    ...(opts.bootTimeMs !== undefined ? { bootTimeMs: opts.bootTimeMs } : {}),
    ...(faults !== undefined && (opts.faultShare ?? 1) >= 1 ? { faults } : {}),
    ...(faults !== undefined && (opts.faultShare ?? 1) < 1
      ? { perDevice: (i: number) => (hasFaults(i, opts.faultShare ?? 1) ? { faults } : {}) }
      : {}),
    ...(reconnect !== undefined ? { reconnect } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(subprotocol !== undefined ? { subprotocol } : {}),
  });
  log(`connecting ${passwords.length} simulated devices to ${opts.url}`);
  fleet.start();

  const progressEvery = opts.progressIntervalMs ?? 5000;
  let progress: NodeJS.Timeout | null = null;
  let announced = false;
  const report = (): void => {
    const s = fleet.stats();
    if (s.ready === s.devices && !announced) {
      announced = true;
      log(`all ${s.devices} devices ready; ${summarize(s.connectMs)}`);
    } else if (!announced) {
      log(`connected ${s.connected}/${s.devices}, ready ${s.ready}/${s.devices}`);
    }
  };
  // One listener per device, used once: the final line appears as soon as the last one is ready.
  const onReady = (): void => {
    const s = fleet.stats();
    if (s.ready === s.devices && !announced) report();
  };
  for (const d of fleet.devices) d.once('ready', onReady);
  if (progressEvery > 0) {
    progress = setInterval(report, progressEvery);
    progress.unref();
  }

  return {
    fleet,
    stats: () => fleet.stats(),
    async stop() {
      if (progress !== null) clearInterval(progress);
      for (const d of fleet.devices) d.off('ready', onReady);
      await fleet.stop();
      log(`stopped ${passwords.length} simulated devices`);
    },
  };
}

async function readPasswords(file: string, count: number): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new HubError('bad_request', `cannot read passwords file ${file}: ${code}`);
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) {
    throw new HubError('bad_request', `passwords file ${file} has no passwords (one per line)`);
  }
  const bad = lines.findIndex((l) => /\s/.test(l));
  if (bad !== -1) {
    throw new HubError('bad_request', `passwords file ${file}: entry ${bad + 1} contains spaces`);
  }
  if (count > lines.length) {
    throw new HubError(
      'bad_request',
      `passwords file ${file} has ${lines.length} passwords, ${count} devices asked for`,
    );
  }
  return count === 0 ? lines : lines.slice(0, count);
}

async function createDevices(
  opts: SimCommandOptions,
  log: (line: string) => void,
): Promise<{ passwords: string[]; ids: string[] }> {
  if (opts.count < 1) throw new HubError('bad_request', 'count must be at least 1');
  const base = httpBaseFromWs(opts.url);
  const endpoint = `${base}/api/v2/devices`;
  const prefix = opts.namePrefix ?? 'sim-';
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const tokens: string[] = new Array<string>(opts.count);
  const ids: string[] = new Array<string>(opts.count);
  let next = 0;
  let done = 0;
  const logEvery = Math.max(1, Math.ceil(opts.count / 10));

  const createOne = async (n: number): Promise<{ id: string; token: string }> => {
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { Authorization: `Bearer ${opts.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: `${prefix}${n}` }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new HubError('internal', `cannot reach the hub at ${base}: ${describeFetchError(e)}`);
    }
    const body = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new HubError(
        'unauthorized',
        `the hub at ${base} refused the API key (HTTP ${res.status})`,
      );
    }
    if (!res.ok) {
      throw new HubError(
        'internal',
        `creating device ${prefix}${n} failed: HTTP ${res.status} ${body.slice(0, 200)}`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (!isValid(CreatedDevice, parsed)) {
      throw new HubError('internal', `the hub's reply to POST ${endpoint} has no id and token`);
    }
    return { id: parsed.id, token: parsed.token };
  };

  const worker = async (): Promise<void> => {
    while (next < opts.count) {
      const i = next++;
      const created = await createOne(i + 1);
      tokens[i] = created.token;
      ids[i] = created.id;
      done++;
      if (done % logEvery === 0 || done === opts.count) {
        log(`created ${done}/${opts.count} devices on ${base}`);
      }
    }
  };
  // Stop handing out work after the first failure; the others finish their current request.
  const workers = Array.from({ length: Math.min(CREATE_CONCURRENCY, opts.count) }, () =>
    worker().catch((e: unknown) => {
      next = opts.count;
      throw e;
    }),
  );
  const results = await Promise.allSettled(workers);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return { passwords: tokens, ids };
}

function parseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HubError('bad_request', `not a URL: ${url}`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new HubError('bad_request', `hub URL must be ws:// or wss://, got ${url}`);
  }
  return u;
}

function describeFetchError(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError') return 'no answer in time';
    const cause = (e as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      return (cause as NodeJS.ErrnoException).code ?? cause.message;
    }
    return e.message;
  }
  return String(e);
}

function summarize(ms: number[]): string {
  if (ms.length === 0) return 'no timings';
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `time to ready p50 ${Math.round(at(0.5))} ms, p95 ${Math.round(at(0.95))} ms, max ${Math.round(at(1))} ms`;
}
