/**
 * The shadow benchmark's load generator, a separate process (forked with an IPC channel by
 * shadow-throughput.ts). It holds many bare device sockets, the way the gateway tests' RawDevice
 * does: each answers the hub's Sys.GetInfo, then sends `Dash.Shadow.Update` requests with ids
 * (PROTOCOL.md 2) and waits for each reply, which the hub sends only after the group commit that
 * holds the change: every reply counted is a durable update.
 *
 * Each update reports `seq` (so every update changes the shadow) and `t_ms`, the wall-clock time
 * it was sent, which the fan-out subscribers use to measure notification lag.
 */
import Type from 'typebox';
import WebSocket from 'ws';
import { isValid } from '../src/main/validate';
import { LatencyRecorder, type LatencySummary } from './latency';
import { isMain } from './bench-main';

export const LoadCommand = Type.Union([
  Type.Object({
    type: Type.Literal('connect'),
    url: Type.String(),
    tokens: Type.Array(Type.String()),
  }),
  Type.Object({
    type: Type.Literal('run'),
    warmupMs: Type.Integer({ minimum: 0 }),
    windowMs: Type.Integer({ minimum: 1 }),
    /** Updates each device keeps in flight (1 = send, await the reply, send the next). */
    inflight: Type.Integer({ minimum: 1 }),
  }),
]);
export type LoadCommand = Type.Static<typeof LoadCommand>;

export const LoadReport = Type.Union([
  Type.Object({ type: Type.Literal('connected'), devices: Type.Integer() }),
  Type.Object({
    type: Type.Literal('result'),
    /** Updates started in the window and acknowledged with a result. */
    ok: Type.Integer(),
    windowMs: Type.Number(),
    /** Every acknowledged update of this run, warm-up and drain included. */
    ackedTotal: Type.Integer(),
    errors: Type.Record(Type.String(), Type.Integer()),
    latency: Type.Object({
      count: Type.Integer(),
      p50: Type.Number(),
      p90: Type.Number(),
      p99: Type.Number(),
      max: Type.Number(),
      mean: Type.Number(),
    }),
  }),
  Type.Object({ type: Type.Literal('error'), message: Type.String() }),
]);
export type LoadReport = Type.Static<typeof LoadReport>;

const HubFrame = Type.Object({
  id: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  method: Type.Optional(Type.String()),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.Number(), message: Type.String() })),
});

const REPLY_TIMEOUT_MS = 5000;

const SYS_INFO = { fw_version: '1.0.0', arch: 'bench', fw_id: 'bench', app: 'bench', uptime: 1 };

class LoadDevice {
  private nextId = 1;
  private readonly pending = new Map<number, (failure: string | null) => void>();

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', () => {
      for (const settle of this.pending.values()) settle('closed');
      this.pending.clear();
    });
  }

  static connect(url: string, token: string): Promise<LoadDevice> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${token}` },
        perMessageDeflate: false,
      });
      const dev = new LoadDevice(ws);
      ws.once('open', () => resolve(dev));
      ws.once('error', reject);
    });
  }

  update(seq: number): Promise<string | null> {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.resolve('closed');
    const id = this.nextId++;
    return new Promise((resolve) => {
      // A frame the hub drops (over the device's rate limit) is never answered: count it as a
      // failure and go on, so the run ends and reports it instead of waiting forever.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(`no reply in ${REPLY_TIMEOUT_MS} ms`);
      }, REPLY_TIMEOUT_MS);
      this.pending.set(id, (failure) => {
        clearTimeout(timer);
        resolve(failure);
      });
      this.ws.send(
        JSON.stringify({
          id,
          method: 'Dash.Shadow.Update',
          params: { state: { reported: { seq, t_ms: Date.now() } } },
        }),
      );
    });
  }

  private onMessage(text: string): void {
    let f: unknown;
    try {
      f = JSON.parse(text);
    } catch {
      return;
    }
    if (!isValid(HubFrame, f)) return;
    if (f.method === 'Sys.GetInfo' && f.id !== undefined) {
      this.ws.send(JSON.stringify({ id: f.id, result: SYS_INFO }));
      return;
    }
    if (f.method !== undefined || typeof f.id !== 'number') return; // Shadow.Delta etc.: no reply needed
    const settle = this.pending.get(f.id);
    if (!settle) return;
    this.pending.delete(f.id);
    settle(f.error ? `error ${f.error.code}` : null);
  }
}

async function connectAll(url: string, tokens: string[]): Promise<LoadDevice[]> {
  const devices: LoadDevice[] = [];
  // A few at a time: this is setup, not the connection storm benchmark.
  for (let i = 0; i < tokens.length; i += 50) {
    devices.push(
      ...(await Promise.all(tokens.slice(i, i + 50).map((t) => LoadDevice.connect(url, t)))),
    );
  }
  return devices;
}

async function run(
  devices: LoadDevice[],
  cmd: { warmupMs: number; windowMs: number; inflight: number },
): Promise<LoadReport> {
  const latency = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let ok = 0;
  let ackedTotal = 0;
  let seq = 0;
  const start = performance.now();
  const windowStart = start + cmd.warmupMs;
  const windowEnd = windowStart + cmd.windowMs;
  const loop = async (d: LoadDevice): Promise<void> => {
    for (;;) {
      const t = performance.now();
      if (t >= windowEnd) return;
      const failure = await d.update(++seq);
      if (failure === null) ackedTotal++;
      if (t < windowStart) continue;
      if (failure === null) {
        ok++;
        latency.add(performance.now() - t);
      } else {
        errors[failure] = (errors[failure] ?? 0) + 1;
      }
    }
  };
  const loops: Promise<void>[] = [];
  for (const d of devices) for (let k = 0; k < cmd.inflight; k++) loops.push(loop(d));
  await Promise.all(loops);
  const summary: LatencySummary = latency.summary();
  return { type: 'result', ok, windowMs: cmd.windowMs, ackedTotal, errors, latency: summary };
}

function main(): void {
  const send = (r: LoadReport): void => void process.send?.(r);
  let devices: LoadDevice[] = [];
  process.on('message', (msg: unknown) => {
    if (!isValid(LoadCommand, msg)) {
      send({ type: 'error', message: 'unknown command' });
      return;
    }
    const work =
      msg.type === 'connect'
        ? connectAll(msg.url, msg.tokens).then((d): LoadReport => {
            devices = d;
            return { type: 'connected', devices: d.length };
          })
        : run(devices, msg);
    work.then(send, (e: unknown) => send({ type: 'error', message: String(e) }));
  });
  // The parent going away (its IPC channel closing) ends this process: never outlive the bench.
  process.on('disconnect', () => {
    for (const d of devices) d.ws.terminate();
    process.exit(0);
  });
}

if (isMain(import.meta.url)) main();
