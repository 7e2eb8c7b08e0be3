/**
 * The minimal relay (minimal-relay.ts) as a child process of a benchmark, and its session count:
 * what the relay side of the connection storm (relay-storm.ts) and of the REST RPC comparison
 * (rpc-vs-relay.ts) both need.
 */
import { BenchChild } from './bench-child';

export interface RelayProcess {
  readonly child: BenchChild;
  /** `http://HOST:PORT` of the relay. */
  readonly http: string;
  /** Where the devices connect (the hub's path, so `fleetbench sim` needs no other flag). */
  readonly deviceUrl: string;
}

export interface RelayProcessOptions {
  /** `<id> <token>` or `<token>` lines (minimal-relay.ts --devices). */
  devicesFile: string;
  /** Its listen backlog; minimal-relay.ts's default (Node's 511) when absent. */
  backlog?: number;
  /** How long it may take to listen. */
  startTimeoutMs: number;
}

/** Starts the relay and resolves once it listens; stops it again if it does not. */
export async function startRelayProcess(o: RelayProcessOptions): Promise<RelayProcess> {
  const args = ['--devices', o.devicesFile];
  if (o.backlog !== undefined) args.push('--backlog', String(o.backlog));
  const child = BenchChild.node('bench/minimal-relay.ts', args, {
    label: 'relay',
    nodeFlags: ['--import', 'tsx'],
  });
  try {
    const m = await child.waitForLine(/^relay: (http:\/\/\S+)/, o.startTimeoutMs);
    const http = m[1] ?? '';
    return { child, http, deviceUrl: `${http.replace(/^http/, 'ws')}/api/v2/rpc` };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** Device sockets the relay holds now (its `GET /status`). */
export async function relayOnline(http: string): Promise<number> {
  const res = await fetch(`${http}/status`);
  const body: unknown = await res.json();
  const n =
    typeof body === 'object' && body !== null && 'online' in body ? Number(body.online) : NaN;
  if (!Number.isFinite(n)) throw new Error('relay /status: no online count');
  return n;
}

/** Polls the relay every `pollMs` until it holds `devices` sockets; rejects after `timeoutMs`. */
export async function waitRelayOnline(
  http: string,
  devices: number,
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let online = await relayOnline(http);
  while (online < devices) {
    if (performance.now() > deadline) {
      throw new Error(`relay: ${online} of ${devices} devices connected after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
    online = await relayOnline(http);
  }
}
