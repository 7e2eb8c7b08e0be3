/**
 * The baseline of the RPC benchmark: a bare `ws` server that plays the hub's role for simulated
 * devices and nothing else (no auth, no store, no notifications, no HTTP). Calling a device
 * through it costs one JSON frame each way over a WebSocket, the floor under what the hub's
 * REST-to-device bridge can achieve with the same devices.
 */
import type { AddressInfo } from 'node:net';
import Type from 'typebox';
import { WebSocketServer, type WebSocket } from 'ws';
import { isValid } from '../src/main/validate';

const Reply = Type.Object({
  id: Type.Integer(),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.Number(), message: Type.String() })),
});

interface Pending {
  resolve: (failure: string | null) => void;
  timer: NodeJS.Timeout;
}

class BareSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', () => {
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.resolve('closed');
      }
      this.pending.clear();
    });
  }

  /** The frame the hub would send (PROTOCOL.md 2); resolves null on a result, else a reason. */
  call(method: string, params: unknown, src: string, timeoutMs: number): Promise<string | null> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve('timeout');
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
      this.ws.send(JSON.stringify({ id, method, params, src }));
    });
  }

  private onMessage(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!isValid(Reply, frame)) return; // device notifications: not ours to answer here
    const p = this.pending.get(frame.id);
    if (!p) return;
    this.pending.delete(frame.id);
    clearTimeout(p.timer);
    p.resolve(frame.error ? `device error ${frame.error.code}` : null);
  }
}

export class BareDeviceServer {
  readonly sessions: BareSession[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly wss: WebSocketServer) {
    wss.on('connection', (ws) => {
      this.sessions.push(new BareSession(ws));
      for (const w of this.waiters) w();
    });
  }

  static async listen(): Promise<BareDeviceServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new BareDeviceServer(wss);
  }

  get url(): string {
    const { port } = this.wss.address() as AddressInfo;
    return `ws://127.0.0.1:${port}/api/v2/rpc`;
  }

  async waitForSessions(n: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.sessions.length < n) {
      if (performance.now() > deadline) {
        throw new Error(`bare server: ${this.sessions.length} of ${n} devices connected`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
      this.waiters = [];
    }
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
