/**
 * A small hub-like peer for testing the simulated devices before the real gateway exists: a real
 * `ws` server on port 0 that authenticates at the upgrade (PROTOCOL.md 1: Bearer or
 * `?access_token=`, 401 before upgrading, first offered subprotocol), keeps one session per
 * device, calls Sys.GetInfo on connect (session step 2), records every frame, lets a test send
 * calls and raw frames, and answers device requests without ever answering a reply.
 * It also serves `POST /api/v2/devices` (PROTOCOL.md 4) when given an API key.
 * Deliberately independent of src/main/gateway so the two can check each other.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export type JsonFrame = Record<string, unknown>;

export interface RecordedFrame {
  /** performance.now() when it arrived. */
  at: number;
  raw: string;
  /** The parsed object, or undefined when the frame was not a JSON object. */
  json: JsonFrame | undefined;
}

export type DeviceRequestAnswer =
  { result: unknown } | { error: { code: number; message: string } } | undefined;

export interface FakeHubOptions {
  /** Known devices: password -> device id. */
  devices?: Record<string, string>;
  /** Enables `POST /api/v2/devices` for this master key. */
  apiKey?: string;
  /** Call Sys.GetInfo as soon as a session opens (PROTOCOL.md 1 step 2). Default true. */
  getInfoOnConnect?: boolean;
  /** Answers device requests (frames with method and id); undefined = no answer. */
  onDeviceRequest?: (session: FakeSession, method: string, params: unknown) => DeviceRequestAnswer;
}

export interface UpgradeAttempt {
  at: number;
  ok: boolean;
  deviceId?: string;
  headers: IncomingHttpHeaders;
  url: string;
}

export class FakeSession extends EventEmitter {
  readonly frames: RecordedFrame[] = [];
  readonly openedAt = performance.now();
  closed = false;
  closeCode: number | null = null;
  /** The Sys.GetInfo result once the device answered it. */
  info: JsonFrame | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, (frame: JsonFrame) => void>();

  constructor(
    readonly deviceId: string,
    readonly ws: WebSocket,
    readonly headers: IncomingHttpHeaders,
    readonly url: string,
  ) {
    super();
    ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      this.emit('closed', code);
    });
    ws.on('error', () => undefined);
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  /** Sends a call like the hub does (`src: "$sys/<id>"`, never `dst`) and awaits its reply. */
  call(
    method: string,
    params?: unknown,
    opts: { timeoutMs?: number; tag?: unknown } = {},
  ): Promise<JsonFrame> {
    const id = this.nextId++;
    const frame: JsonFrame = { id, method, src: `$sys/${this.deviceId}` };
    if (params !== undefined) frame.params = params;
    if (opts.tag !== undefined) frame.tag = opts.tag;
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`fake hub: ${method} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.ws.send(JSON.stringify(frame));
    });
  }

  /** Calls and returns `result`, throwing on an error reply. */
  async result(method: string, params?: unknown, timeoutMs?: number): Promise<unknown> {
    const reply = await this.call(method, params, { timeoutMs });
    if (reply.error !== undefined) {
      throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
    }
    return reply.result;
  }

  notify(method: string, params?: unknown): void {
    this.ws.send(JSON.stringify(params === undefined ? { method } : { method, params }));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** Frames from the device that carry `method` and no `id`. */
  notifications(method?: string): JsonFrame[] {
    const out: JsonFrame[] = [];
    for (const f of this.frames) {
      if (f.json && typeof f.json.method === 'string' && !('id' in f.json)) {
        if (method === undefined || f.json.method === method) out.push(f.json);
      }
    }
    return out;
  }

  /** Resolves with the first frame (index >= from) matching `pred`, waiting for it if needed. */
  waitFor(pred: (f: RecordedFrame) => boolean, timeoutMs = 5000, from = 0): Promise<RecordedFrame> {
    for (let i = from; i < this.frames.length; i++) {
      const f = this.frames[i];
      if (f !== undefined && pred(f)) return Promise.resolve(f);
    }
    return new Promise((resolve, reject) => {
      const onFrame = (f: RecordedFrame): void => {
        if (!pred(f)) return;
        clearTimeout(timer);
        this.off('frame', onFrame);
        resolve(f);
      };
      const timer = setTimeout(() => {
        this.off('frame', onFrame);
        reject(new Error(`fake hub: no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('frame', onFrame);
    });
  }

  waitClosed(timeoutMs = 5000): Promise<number> {
    if (this.closed) return Promise.resolve(this.closeCode ?? 0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('fake hub: session did not close in time')),
        timeoutMs,
      );
      this.once('closed', (code: number) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  /** Resolves when the device answers a WebSocket ping (PROTOCOL.md 1 liveness). */
  ping(timeoutMs = 2000): Promise<void> {
    return new Promise((resolve, reject) => {
      const payload = randomBytes(4);
      const timer = setTimeout(() => {
        this.ws.off('pong', onPong);
        reject(new Error('fake hub: no pong'));
      }, timeoutMs);
      const onPong = (data: Buffer): void => {
        if (!data.equals(payload)) return;
        clearTimeout(timer);
        this.ws.off('pong', onPong);
        resolve();
      };
      this.ws.on('pong', onPong);
      this.ws.ping(payload);
    });
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    const raw = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    let json: JsonFrame | undefined;
    if (!isBinary) {
      try {
        const v: unknown = JSON.parse(raw);
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) json = v as JsonFrame;
      } catch {
        json = undefined;
      }
    }
    const rec: RecordedFrame = { at: performance.now(), raw, json };
    this.frames.push(rec);
    if (json !== undefined) this.route(json);
    this.emit('frame', rec);
  }

  private route(f: JsonFrame): void {
    const hasMethod = typeof f.method === 'string';
    if (!hasMethod && typeof f.id === 'number' && ('result' in f || 'error' in f)) {
      const waiter = this.waiting.get(f.id);
      if (waiter !== undefined) {
        this.waiting.delete(f.id);
        waiter(f);
      }
      return;
    }
    if (hasMethod && f.id !== undefined) this.emit('device-request', f);
    // Anything else: recorded, never answered (PROTOCOL.md 2).
  }
}

export class FakeHub extends EventEmitter {
  readonly sessions: FakeSession[] = [];
  readonly attempts: UpgradeAttempt[] = [];
  /** Devices created through POST /api/v2/devices. */
  readonly created: { id: string; name: string; token: string }[] = [];
  private readonly passwords = new Map<string, string>();
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private port = 0;

  constructor(private readonly opts: FakeHubOptions = {}) {
    super();
    for (const [password, id] of Object.entries(opts.devices ?? {}))
      this.passwords.set(password, id);
    this.server = createServer((req, res) => {
      void this.onHttp(req).then(({ status, body }) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    this.wss = new WebSocketServer({
      noServer: true,
      // PROTOCOL.md 1: answer with the first offered subprotocol, or none.
      handleProtocols: (protocols) => {
        const first = protocols.values().next();
        return first.done ? false : first.value;
      },
    });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/api/v2/rpc`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  addDevice(password: string, id: string): void {
    this.passwords.set(password, id);
  }

  removeDevice(password: string): void {
    this.passwords.delete(password);
  }

  get rejected(): number {
    return this.attempts.filter((a) => !a.ok).length;
  }

  sessionsOf(deviceId: string): FakeSession[] {
    return this.sessions.filter((s) => s.deviceId === deviceId);
  }

  /** Open sessions right now. */
  get openCount(): number {
    return this.sessions.filter((s) => !s.closed).length;
  }

  /** Resolves with the device's nth session (1-based) once it has opened. */
  waitForSession(deviceId: string, nth = 1, timeoutMs = 5000): Promise<FakeSession> {
    const have = this.sessionsOf(deviceId)[nth - 1];
    if (have !== undefined) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const onSession = (s: FakeSession): void => {
        const found = this.sessionsOf(deviceId)[nth - 1];
        if (s.deviceId !== deviceId || found === undefined) return;
        clearTimeout(timer);
        this.off('session', onSession);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.off('session', onSession);
        reject(new Error(`fake hub: session ${nth} of ${deviceId} did not open in time`));
      }, timeoutMs);
      this.on('session', onSession);
    });
  }

  /** Resolves when the session's Sys.GetInfo reply has arrived. */
  waitForInfo(session: FakeSession, timeoutMs = 5000): Promise<JsonFrame> {
    if (session.info !== null) return Promise.resolve(session.info);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('fake hub: no Sys.GetInfo reply')),
        timeoutMs,
      );
      session.once('info', (info: JsonFrame) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) if (!s.closed) s.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authenticate(req: IncomingMessage): string | undefined {
    const url = new URL(req.url ?? '/', 'http://x');
    const fromQuery = url.searchParams.get('access_token');
    // Several Authorization headers arrive joined by ", "; a Basic one is ignored.
    const fromHeader = (req.headers.authorization ?? '')
      .split(',')
      .map((p) => p.trim())
      .find((p) => p.startsWith('Bearer '))
      ?.slice('Bearer '.length);
    const token = fromHeader ?? fromQuery ?? undefined;
    return token === undefined ? undefined : this.passwords.get(token);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A device may cut the connection mid-handshake (reboot, stop); that is not a test failure.
    socket.on('error', () => undefined);
    const url = req.url ?? '/';
    const path = new URL(url, 'http://x').pathname;
    const deviceId = path === '/api/v2/rpc' ? this.authenticate(req) : undefined;
    this.attempts.push({
      at: performance.now(),
      ok: deviceId !== undefined,
      ...(deviceId !== undefined ? { deviceId } : {}),
      headers: req.headers,
      url,
    });
    if (deviceId === undefined) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      this.emit('rejected');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // One live session per device: a new login closes the older socket (PROTOCOL.md 1).
      for (const old of this.sessionsOf(deviceId)) if (!old.closed) old.ws.close(1000, 'replaced');
      const session = new FakeSession(deviceId, ws, req.headers, url);
      session.on('device-request', (f: JsonFrame) => this.answer(session, f));
      this.sessions.push(session);
      this.emit('session', session);
      if (this.opts.getInfoOnConnect ?? true) {
        session
          .call('Sys.GetInfo', { utc_time: Math.floor(Date.now() / 1000) })
          .then((reply) => {
            const result = reply.result;
            if (typeof result === 'object' && result !== null) {
              session.info = result as JsonFrame;
              session.emit('info', session.info);
            }
          })
          .catch(() => undefined); // a faulty device may never answer
      }
    });
  }

  private answer(session: FakeSession, f: JsonFrame): void {
    const method = String(f.method);
    const answer = this.opts.onDeviceRequest
      ? this.opts.onDeviceRequest(session, method, f.params)
      : defaultAnswer(method);
    if (answer === undefined || session.closed) return;
    session.ws.send(JSON.stringify({ id: f.id, ...answer }));
  }

  private async onHttp(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'POST' || path !== '/api/v2/devices' || this.opts.apiKey === undefined) {
      return { status: 404, body: { error: { code: 404, message: 'not found' } } };
    }
    if (req.headers.authorization !== `Bearer ${this.opts.apiKey}`) {
      return { status: 401, body: { error: { code: 401, message: 'missing or invalid API key' } } };
    }
    let name = '';
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      if (typeof parsed === 'object' && parsed !== null && 'name' in parsed) {
        name = String((parsed as { name: unknown }).name);
      }
    } catch {
      return { status: 400, body: { error: { code: 4001, message: 'body is not valid JSON' } } };
    }
    const id = `d${this.created.length + 1}`;
    const token = randomBytes(12).toString('hex');
    this.created.push({ id, name, token });
    this.passwords.set(token, id);
    return { status: 200, body: { id, name, token, online: false, acl: {}, created: 0 } };
  }
}

function defaultAnswer(method: string): DeviceRequestAnswer {
  if (method === 'Dash.Shadow.Get') {
    return {
      result: {
        state: { desired: {}, reported: {}, delta: {} },
        tags: {},
        version: 1,
        timestamp: 0,
      },
    };
  }
  if (method === 'Dash.Heartbeat') return { result: true };
  return { error: { code: -32601, message: 'method not found' } };
}
