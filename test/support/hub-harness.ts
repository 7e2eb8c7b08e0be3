/**
 * A real hub on port 0 with a fresh temp data dir, plus small helpers to talk to it the way
 * clients do (fetch, raw WebSockets). Every test gets its own hub.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createHub, type Hub } from '../../src/main/hub';
import type { HubOptions } from '../../src/main/config';
import type { DeviceObject, Json, Notification } from '../../src/shared/types';

export interface TestHub {
  hub: Hub;
  http: string;
  ws: string;
  key: string;
  dataDir: string;
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    key?: string | null,
  ): Promise<ApiResult<T>>;
  createDevice(body?: { name?: string; id?: string }): Promise<DeviceObject>;
  stop(): Promise<void>;
}

export interface ApiResult<T> {
  status: number;
  body: T;
  text: string;
}

/** The body of every REST error (PROTOCOL.md 4). */
export interface ErrorBody {
  error: { code: number; message: string };
}

export async function startTestHub(
  options: Partial<HubOptions> & Pick<Parameters<typeof createHub>[0], 'networkInterfaces'> = {},
): Promise<TestHub> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'fb-hub-'));
  const hub = createHub({ host: '127.0.0.1', port: 0, logLevel: 'silent', ...options, dataDir });
  const urls = await hub.start();
  const key = hub.masterKey();
  const api = async <T>(method: string, path: string, body?: unknown, k: string | null = key) => {
    const headers: Record<string, string> = {};
    if (k !== null) headers['authorization'] = `Bearer ${k}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await fetch(urls.http + path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, text };
  };
  return {
    hub,
    http: urls.http,
    ws: urls.http.replace(/^http/, 'ws'),
    key,
    dataDir,
    api,
    async createDevice(body = {}) {
      const r = await api<DeviceObject>('POST', '/api/v2/devices', body);
      if (r.status !== 200) throw new Error(`create device: ${r.status} ${r.text}`);
      return r.body;
    },
    async stop() {
      await hub.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A hand-driven device socket for tests that need exact control of frames. */
export class RawDevice {
  readonly frames: Record<string, Json>[] = [];
  private waiters: {
    pred: (f: Record<string, Json>) => boolean;
    resolve: (f: Record<string, Json>) => void;
  }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let f: Record<string, Json>;
      try {
        f = JSON.parse(data.toString()) as Record<string, Json>;
      } catch {
        return;
      }
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(f)) return true;
        w.resolve(f);
        return false;
      });
    });
  }

  static connect(
    url: string,
    opts: WebSocket.ClientOptions & { protocols?: string[] } = {},
  ): Promise<RawDevice> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts.protocols ?? [], opts);
      const dev = new RawDevice(ws);
      ws.once('open', () => resolve(dev));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Waits for (or finds) a frame from the hub matching the predicate. */
  next(
    pred: (f: Record<string, Json>) => boolean,
    timeoutMs = 5000,
  ): Promise<Record<string, Json>> {
    const found = this.frames.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(t);
          resolve(f);
        },
      });
    });
  }

  /** Waits for a call of `method` from the hub. */
  call(method: string, timeoutMs?: number): Promise<Record<string, Json>> {
    return this.next((f) => f['method'] === method, timeoutMs);
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  reply(call: Record<string, Json>, result: Json): void {
    this.send({ id: call['id'], result });
  }

  /** Answers Sys.GetInfo so the session steps go on. */
  async answerGetInfo(
    info: Json = { fw_version: '1.0', arch: 'esp32', fw_id: 'x', app: 'test' },
  ): Promise<void> {
    this.reply(await this.call('Sys.GetInfo'), info);
  }

  closed(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 0, reason: '' });
    return new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * A hand-driven device logged in with its password as a Bearer header, Sys.GetInfo answered,
 * returned once the hub counts it online.
 */
export async function connectOnline(
  t: TestHub,
  dev: Pick<DeviceObject, 'id' | 'token'>,
): Promise<RawDevice> {
  const raw = await RawDevice.connect(deviceUrl(t), {
    headers: { authorization: `Bearer ${dev.token}` },
  });
  await raw.answerGetInfo();
  await waitFor(() => t.hub.services().gateway.isOnline(dev.id));
  return raw;
}

/** The HTTP status a WebSocket upgrade to `url` gets: 101 when it opens, else the refusal's status. */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

/** The upgrade status of the notification stream (PROTOCOL.md 7) with `key` as access_token. */
export function notifyStatus(t: TestHub, key: string): Promise<number> {
  return upgradeStatus(notifyUrl(t, key));
}

function notifyUrl(t: TestHub, key: string): string {
  return `${t.ws}/api/v2/notify?access_token=${encodeURIComponent(key)}`;
}

/** Subscribes to the management notification stream with `key` (the master key by default). */
export async function openNotify(
  t: TestHub,
  key: string = t.key,
): Promise<{
  events: Notification[];
  ws: WebSocket;
  next(pred: (n: Notification) => boolean, timeoutMs?: number): Promise<Notification>;
}> {
  const ws = new WebSocket(notifyUrl(t, key));
  const events: Notification[] = [];
  let waiters: { pred: (n: Notification) => boolean; resolve: (n: Notification) => void }[] = [];
  ws.on('message', (d) => {
    const n = JSON.parse(d.toString()) as Notification;
    events.push(n);
    waiters = waiters.filter((w) => (w.pred(n) ? (w.resolve(n), false) : true));
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    events,
    ws,
    next(pred, timeoutMs = 5000) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error('timed out waiting for a notification')),
          timeoutMs,
        );
        waiters.push({ pred, resolve: (n) => (clearTimeout(t), resolve(n)) });
      });
    },
  };
}

export function deviceUrl(t: TestHub, query = ''): string {
  return `${t.ws}/api/v2/rpc${query}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
