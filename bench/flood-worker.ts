/**
 * The fairness benchmark's flooders, a separate process (forked with an IPC channel by
 * fairness.ts): bare device sockets that answer the hub's Sys.GetInfo and then send `Log`
 * notifications (PROTOCOL.md 2) as fast as their sockets take them, the runaway-firmware case of
 * issue 7 item 17. A flooder the hub disconnects comes back after 1 s, as firmware does.
 * Writing stops while a socket's buffer holds 256 KB, so a hub that stops reading (backpressure)
 * also stops the flooder from spinning this process's CPU.
 *
 * The process lowers its own CPU priority (nice 19): real flooders are other machines on the
 * LAN, and the question is whether the hub shares itself fairly, not whether this machine's two
 * cores can run the attackers too.
 */
import { setPriority } from 'node:os';
import Type from 'typebox';
import WebSocket from 'ws';
import { isValid } from '../src/main/validate';
import { isMain } from './bench-main';

export const FloodCommand = Type.Union([
  Type.Object({
    type: Type.Literal('connect'),
    url: Type.String(),
    tokens: Type.Array(Type.String()),
  }),
  Type.Object({ type: Type.Literal('start') }),
  Type.Object({ type: Type.Literal('stop') }),
]);
export type FloodCommand = Type.Static<typeof FloodCommand>;

export const FloodReport = Type.Union([
  Type.Object({ type: Type.Literal('connected'), devices: Type.Integer() }),
  Type.Object({
    type: Type.Literal('stopped'),
    /** Frames written into the sockets while flooding. */
    sent: Type.Integer(),
    /** Sessions the hub closed while flooding, by close code. */
    closes: Type.Record(Type.String(), Type.Integer()),
    reconnects: Type.Integer(),
  }),
  Type.Object({ type: Type.Literal('error'), message: Type.String() }),
]);
export type FloodReport = Type.Static<typeof FloodReport>;

const SYS_INFO = { fw_version: '1.0.0', arch: 'bench', fw_id: 'bench', app: 'flood', uptime: 1 };
const MAX_BUFFERED = 256 * 1024;
const BATCH = 100;

class Flooder {
  ws: WebSocket | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly state: {
      on: boolean;
      sent: number;
      closes: Record<string, number>;
      reconnects: number;
    },
  ) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, {
        headers: { authorization: `Bearer ${this.token}` },
        perMessageDeflate: false,
      });
      this.ws = ws;
      ws.on('message', (data) => {
        let f: unknown;
        try {
          f = JSON.parse(data.toString());
        } catch {
          return;
        }
        if (typeof f === 'object' && f !== null && 'method' in f && 'id' in f) {
          if (f.method === 'Sys.GetInfo') ws.send(JSON.stringify({ id: f.id, result: SYS_INFO }));
        }
      });
      ws.once('open', () => {
        if (this.state.on) this.pump();
        resolve();
      });
      ws.once('error', reject);
      ws.on('close', (code) => {
        clearTimeout(this.timer);
        if (!this.state.on) return;
        this.state.closes[String(code)] = (this.state.closes[String(code)] ?? 0) + 1;
        setTimeout(() => {
          if (!this.state.on) return;
          this.state.reconnects++;
          this.connect().catch(() => undefined);
        }, 1000);
      });
    });
  }

  pump(): void {
    const ws = this.ws;
    if (!this.state.on || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount < MAX_BUFFERED) {
      for (let i = 0; i < BATCH; i++) {
        const seq = this.state.sent++;
        ws.send(
          `{"method":"Log","params":{"fd":1,"data":"flood line ${seq} ........................................\\n","t":${seq},"seq":${seq}}}`,
        );
      }
    }
    this.timer = setTimeout(() => this.pump(), 1);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

function main(): void {
  try {
    setPriority(19);
  } catch {
    // Not allowed here: run at normal priority (the report says which).
  }
  const send = (r: FloodReport): void => void process.send?.(r);
  const state = { on: false, sent: 0, closes: {} as Record<string, number>, reconnects: 0 };
  let flooders: Flooder[] = [];
  process.on('message', (msg: unknown) => {
    if (!isValid(FloodCommand, msg)) {
      send({ type: 'error', message: 'unknown command' });
      return;
    }
    if (msg.type === 'connect') {
      flooders = msg.tokens.map((t) => new Flooder(msg.url, t, state));
      Promise.all(flooders.map((f) => f.connect())).then(
        () => send({ type: 'connected', devices: flooders.length }),
        (e: unknown) => send({ type: 'error', message: String(e) }),
      );
    } else if (msg.type === 'start') {
      state.on = true;
      state.sent = 0;
      state.closes = {};
      state.reconnects = 0;
      for (const f of flooders) f.pump();
      send({ type: 'connected', devices: flooders.length });
    } else {
      state.on = false;
      for (const f of flooders) f.stop();
      send({
        type: 'stopped',
        sent: state.sent,
        closes: state.closes,
        reconnects: state.reconnects,
      });
    }
  });
  process.on('disconnect', () => {
    for (const f of flooders) f.ws?.terminate();
    process.exit(0);
  });
}

if (isMain(import.meta.url)) main();
