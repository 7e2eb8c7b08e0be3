/**
 * The data benchmarks' device side, a separate process (forked with an IPC channel by
 * data-ingest.ts and data-drain.ts). It holds bare device sockets, the way the gateway tests'
 * RawDevice does, and answers the hub's session steps: Sys.GetInfo, and the spool drain's FS.Get /
 * FS.Remove from each device's in-memory `mdash.unsent` (an error reply for a missing file, as
 * firmware does).
 *
 * Ingest: each device sends `DB.Store ["q", ts, topic, message]` with an id and waits for the
 * reply, which the hub sends only after the commit that holds the row: each reply counted is a
 * durable row. Drain: devices connect with a spool of `spoolBytes` each; the parent counts rows.
 */
import Type from 'typebox';
import WebSocket from 'ws';
import { isValid } from '../src/main/validate';
import { LatencyRecorder } from './latency';
import { isMain } from './bench-main';

export const DataCommand = Type.Union([
  Type.Object({
    type: Type.Literal('connect'),
    url: Type.String(),
    tokens: Type.Array(Type.String()),
    /** Bytes of `mdash.unsent` each device holds at connect; 0 = none. */
    spoolBytes: Type.Integer({ minimum: 0 }),
    /** Connections opened at once. */
    batch: Type.Integer({ minimum: 1 }),
  }),
  Type.Object({
    type: Type.Literal('run'),
    warmupMs: Type.Integer({ minimum: 0 }),
    windowMs: Type.Integer({ minimum: 1 }),
  }),
]);
export type DataCommand = Type.Static<typeof DataCommand>;

export const DataReport = Type.Union([
  Type.Object({
    type: Type.Literal('connected'),
    devices: Type.Integer(),
    /** Rows spooled over all devices (complete lines). */
    spooledRows: Type.Integer(),
    connectMs: Type.Number(),
  }),
  Type.Object({
    type: Type.Literal('result'),
    ok: Type.Integer(),
    windowMs: Type.Number(),
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
    /** Spool files the hub removed after draining them. */
    removed: Type.Integer(),
  }),
  Type.Object({ type: Type.Literal('error'), message: Type.String() }),
]);
export type DataReport = Type.Static<typeof DataReport>;

const HubFrame = Type.Object({
  id: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  method: Type.Optional(Type.String()),
  params: Type.Optional(Type.Unknown()),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.Number(), message: Type.String() })),
});
const FsParams = Type.Object({
  filename: Type.String(),
  offset: Type.Optional(Type.Integer()),
  len: Type.Optional(Type.Integer()),
});

const SYS_INFO = { fw_version: '1.0.0', arch: 'bench', fw_id: 'bench', app: 'bench', uptime: 1 };

/** A spool of about `bytes` bytes of complete lines, and how many lines it holds. */
export function makeSpool(bytes: number, dev: number): { data: Buffer; rows: number } {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const ts = new Date(Date.UTC(2026, 0, 1) + i * 10_000)
      .toISOString()
      .slice(0, 19)
      .replace('T', ' ');
    const l = `q ${JSON.stringify([ts, 'spool', `{"dev":${dev},"i":${i},"t":${(20 + (i % 50) / 10).toFixed(1)}}`])}\n`;
    if (size + l.length > bytes && lines.length > 0) break;
    lines.push(l);
    size += l.length;
  }
  return { data: Buffer.from(lines.join('')), rows: lines.length };
}

class DataDevice {
  private nextId = 1;
  private readonly pending = new Map<number, (failure: string | null) => void>();
  spool: Buffer | null = null;
  removed = 0;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', () => {
      for (const settle of this.pending.values()) settle('closed');
      this.pending.clear();
    });
  }

  static connect(url: string, token: string, spool: Buffer | null): Promise<DataDevice> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${token}` },
        perMessageDeflate: false,
      });
      const dev = new DataDevice(ws);
      dev.spool = spool;
      ws.once('open', () => resolve(dev));
      ws.once('error', reject);
    });
  }

  store(seq: number): Promise<string | null> {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.resolve('closed');
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(
        `{"id":${id},"method":"DB.Store","params":["q","2026-01-01 00:00:00","ingest","{\\"seq\\":${seq}}"]}`,
      );
    });
  }

  private send(obj: unknown): void {
    this.ws.send(JSON.stringify(obj));
  }

  private onMessage(text: string): void {
    let f: unknown;
    try {
      f = JSON.parse(text);
    } catch {
      return;
    }
    if (!isValid(HubFrame, f)) return;
    if (f.method !== undefined) {
      if (f.id === undefined) return;
      if (f.method === 'Sys.GetInfo') this.send({ id: f.id, result: SYS_INFO });
      else if (f.method === 'FS.Get' || f.method === 'FS.Remove') this.fs(f.id, f.method, f.params);
      // As the firmware does for a method it does not have (FS.Rename before a drain): an error
      // reply, not silence, which would hold the hub's call for its 30 s timeout.
      else this.send({ id: f.id, error: { code: -32601, message: 'method not found' } });
      return;
    }
    if (typeof f.id !== 'number') return;
    const settle = this.pending.get(f.id);
    if (!settle) return;
    this.pending.delete(f.id);
    settle(f.error ? `error ${f.error.code}` : null);
  }

  private fs(id: number | string, method: string, params: unknown): void {
    if (!isValid(FsParams, params) || params.filename !== 'mdash.unsent' || this.spool === null) {
      this.send({ id, error: { code: -1, message: 'file not found' } });
      return;
    }
    if (method === 'FS.Remove') {
      this.spool = null;
      this.removed++;
      this.send({ id, result: true });
      return;
    }
    const offset = params.offset ?? 0;
    const end = Math.min(this.spool.length, offset + (params.len ?? 512));
    const data = this.spool.subarray(offset, end).toString('base64');
    this.send({
      id,
      result: { filename: params.filename, offset, left: this.spool.length - end, data },
    });
  }
}

let devices: DataDevice[] = [];

async function connectAll(cmd: Extract<DataCommand, { type: 'connect' }>): Promise<DataReport> {
  const t0 = performance.now();
  let spooledRows = 0;
  const spools = cmd.tokens.map((_, i) => {
    if (cmd.spoolBytes === 0) return null;
    const s = makeSpool(cmd.spoolBytes, i);
    spooledRows += s.rows;
    return s.data;
  });
  for (let i = 0; i < cmd.tokens.length; i += cmd.batch) {
    const part = cmd.tokens.slice(i, i + cmd.batch);
    devices.push(
      ...(await Promise.all(
        part.map((t, k) => DataDevice.connect(cmd.url, t, spools[i + k] ?? null)),
      )),
    );
  }
  return {
    type: 'connected',
    devices: devices.length,
    spooledRows,
    connectMs: performance.now() - t0,
  };
}

async function run(cmd: { warmupMs: number; windowMs: number }): Promise<DataReport> {
  const latency = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let ok = 0;
  let ackedTotal = 0;
  let seq = 0;
  const windowStart = performance.now() + cmd.warmupMs;
  const windowEnd = windowStart + cmd.windowMs;
  const loop = async (d: DataDevice): Promise<void> => {
    for (;;) {
      const t = performance.now();
      if (t >= windowEnd) return;
      const failure = await d.store(++seq);
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
  await Promise.all(devices.map((d) => loop(d)));
  const s = latency.summary();
  return {
    type: 'result',
    ok,
    windowMs: cmd.windowMs,
    ackedTotal,
    errors,
    latency: s,
    removed: devices.reduce((n, d) => n + d.removed, 0),
  };
}

if (isMain(import.meta.url)) {
  const send = (r: DataReport): void => void process.send?.(r);
  process.on('disconnect', () => {
    for (const d of devices) d.ws.terminate();
    devices = [];
    process.exit(0);
  });
  process.on('message', (msg: unknown) => {
    if (!isValid(DataCommand, msg)) return;
    const job = msg.type === 'connect' ? connectAll(msg) : run(msg);
    job.then(send, (e: unknown) =>
      send({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
  });
}
