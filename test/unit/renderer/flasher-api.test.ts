/**
 * The flasher page's client (api/flasher-api.ts) and its monitor store against a real HTTP +
 * WebSocket server that records what it is sent and misbehaves on purpose (the happy paths against
 * the real hub and a simulated board run in test/e2e/flasher.test.ts). The `ws` package stands in
 * for the browser's WebSocket, with the same onopen/onmessage/onclose/send surface.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { createFlasherApi, type MonitorFrame } from '../../../src/renderer/api/flasher-api';
import { createApiClient } from '../../../src/renderer/api/http-client';
import type { SocketLike } from '../../../src/renderer/api/notify-stream';
import { createMonitorStore } from '../../../src/renderer/features/flasher/monitor-store';

const KEY = 'the session key';

let server: Server;
let wss: WebSocketServer;
let base: string;
const requests: { method: string; url: string; auth: string }[] = [];
const upgrades: string[] = [];
const monitorIn: string[] = [];
let monitorSocket: ServerSocket | null = null;

function until(pred: () => boolean, timeoutMs = 3000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() - t0 > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

beforeAll(async () => {
  wss = new WebSocketServer({ noServer: true });
  server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers.authorization ?? '',
    });
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (url === '/api/v2/local/ports') {
        json(200, [
          { path: '/dev/ttyUSB0', friendlyName: 'CP2102', kind: 'usb', owner: null },
          {
            path: '/dev/ttyUSB1',
            friendlyName: 'CH340',
            kind: 'usb',
            owner: { kind: 'flash', id: 'j1' },
          },
        ]);
      } else if (url === '/api/v2/local/jobs') {
        json(200, [{ id: 'j1', port: '/dev/ttyUSB1' }]); // no state, files, created: not a job list
      } else if (url === '/api/v2/local/flash') {
        json(409, {
          error: { code: 4093, message: 'port /dev/ttyUSB1 is busy: used by flash job j1' },
        });
      } else {
        res.writeHead(404).end();
      }
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url ?? '';
    upgrades.push(url);
    const port = new URL(url, 'http://x').searchParams.get('port');
    if (port === '/dev/busy') {
      socket.end('HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (url.startsWith('/api/v2/local/monitor')) {
        monitorSocket = ws;
        ws.on('message', (data) => monitorIn.push(String(data)));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const createSocket = (url: string): SocketLike => new WebSocket(url) as unknown as SocketLike;
const api = () => createFlasherApi({ baseUrl: `${base}/`, key: KEY, createSocket, timeoutMs: 500 });

describe('createFlasherApi', () => {
  it('authenticates REST calls with the session key it was given', async () => {
    // The key as the session's API client hands it out, not fished out of a URL.
    const client = createApiClient({ baseUrl: base, key: KEY });
    const flasher = createFlasherApi({ baseUrl: client.baseUrl, key: client.key(), createSocket });
    const ports = await flasher.listPorts();
    expect(ports.map((p) => p.owner?.id ?? null)).toEqual([null, 'j1']);
    expect(requests.at(-1)).toEqual({
      method: 'GET',
      url: '/api/v2/local/ports',
      auth: `Bearer ${KEY}`,
    });
  });

  it('turns a coded refusal into an ApiError and a malformed answer into a clear error', async () => {
    const file = { file: new Blob([new Uint8Array(16)]), name: 'app.bin', address: 0x10000 };
    await expect(api().flash([file], { port: '/dev/ttyUSB1' })).rejects.toMatchObject({
      code: 4093,
      status: 409,
      message: expect.stringContaining('busy'),
    });
    await expect(api().listJobs()).rejects.toMatchObject({
      code: 0,
      message: 'the hub sent an unexpected job list',
    });
  });

  it('opens the notify stream with the key as access_token and reopens reports onOpen', async () => {
    let opened = 0;
    const stop = api().events(
      () => {},
      undefined,
      () => opened++,
    );
    await until(() => opened === 1);
    stop();
    const url = new URL(upgrades.at(-1)!, base);
    expect(url.pathname).toBe('/api/v2/notify');
    expect(url.searchParams.get('access_token')).toBe(KEY);
  });
});

describe('serial monitor (api + store)', () => {
  it('shows valid frames as lines, drops junk, sends typed input, and closes', async () => {
    let portChanges = 0;
    const store = createMonitorStore({ api: api(), onPortChange: () => portChanges++ });
    store.getState().open('/dev/ttyUSB0', 115200);
    expect(store.getState().status).toBe('opening');
    await until(() => store.getState().status === 'open' && monitorSocket !== null);
    const url = new URL(upgrades.at(-1)!, base);
    expect(url.pathname).toBe('/api/v2/local/monitor');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      port: '/dev/ttyUSB0',
      baud: '115200',
      format: 'lines',
      access_token: KEY,
    });
    const frames: unknown[] = [
      { type: 'line', line: 'I (312) app: hello' },
      { type: 'line', line: 42 }, // wrong shape: dropped
      'not json at all',
      {
        type: 'panic',
        panic: { reason: 'LoadProhibited', core: 0, fn: 'app_main', offset: 26, lines: [] },
      },
      { type: 'warning', message: 'no DTR/RTS on this port' },
      { type: 'ok', request: 'write' } satisfies MonitorFrame,
    ];
    for (const f of frames) monitorSocket!.send(typeof f === 'string' ? f : JSON.stringify(f));
    await until(() => store.getState().lines.some((l) => l.kind === 'warning'));
    const shown = store.getState().lines.filter((l) => l.kind !== 'info');
    expect(shown.map((l) => [l.kind, l.text])).toEqual([
      ['line', 'I (312) app: hello'],
      ['panic', '--- panic: LoadProhibited in app_main+0x1a (core 0)'],
      ['warning', 'no DTR/RTS on this port'],
    ]);

    store.getState().send('status\r\n');
    store.getState().send(''); // nothing to send
    await until(() => monitorIn.length === 1);
    expect(JSON.parse(monitorIn[0]!)).toEqual({ type: 'write', data: 'status\r\n' });
    expect(store.getState().lines.at(-1)).toMatchObject({ kind: 'input', text: '> status' });

    store.getState().close();
    expect(store.getState().status).toBe('closed');
    expect(store.getState().lines.at(-1)?.text).toBe('--- monitor closed');
    // Opened and closed: the port list was reloaded both times.
    expect(portChanges).toBe(2);
  });

  it('explains a refused monitor (a browser never sees the body) and stays usable', async () => {
    const store = createMonitorStore({ api: api(), onPortChange: () => {} });
    store.getState().open('/dev/busy', 115200);
    await until(() => store.getState().status === 'closed');
    expect(store.getState().lines.at(-1)).toMatchObject({
      kind: 'error',
      text: expect.stringContaining('could not open /dev/busy: it is in use'),
    });
    store.getState().send('ignored\r\n');
    expect(store.getState().lines.at(-1)?.kind).toBe('error');
    store.getState().clear();
    expect(store.getState().lines).toEqual([]);
  });
});
