/**
 * The minimal relay of issue 11, as its own process: an HTTP server whose WebSocket upgrade checks
 * the device password against an in-memory map (Bearer header or `?access_token=`, 401 otherwise)
 * and keeps the socket, and which forwards `GET /devices/:n/rpc/:method` as one frame to device
 * number n (its line in the passwords file, from 0) and returns the reply. Nothing else: no store,
 * no notifications, no pings, no session steps. It is the floor the hub is compared with.
 *
 * Run: node --import tsx bench/minimal-relay.ts --passwords FILE [--host 0.0.0.0] [--backlog N]
 * (the listen backlog; 511 is Node's default, the hub's is its config `limits.listenBacklog`)
 * Prints `relay: http://HOST:PORT`; `GET /status` answers `{"online":N}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { requestSecret } from '../src/main/gateway/upgrade-auth';

interface Waiter {
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

class RelaySocket {
  private nextId = 1;
  readonly waiting = new Map<number, Waiter>();
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      const m = /"id"\s*:\s*(\d+)/.exec(text);
      const w = m?.[1] === undefined ? undefined : this.waiting.get(Number(m[1]));
      if (!w) return;
      this.waiting.delete(Number(m?.[1]));
      clearTimeout(w.timer);
      w.res.writeHead(200, { 'content-type': 'application/json' }).end(text);
    });
  }
  call(method: string, res: ServerResponse): void {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.waiting.delete(id);
      res.writeHead(504).end();
    }, 30_000);
    this.waiting.set(id, { res, timer });
    this.ws.send(`{"id":${id},"method":${JSON.stringify(method)}}`);
  }
}

export function startRelay(passwords: readonly string[], host: string, port = 0, backlog = 511) {
  const byToken = new Map<string, number>();
  passwords.forEach((t, i) => byToken.set(t, i));
  const sockets = new Map<number, RelaySocket>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ online: sockets.size }));
      return;
    }
    const m = /^\/devices\/(\d+)\/rpc\/([\w.]+)$/.exec(req.url ?? '');
    const s = m?.[1] === undefined ? undefined : sockets.get(Number(m[1]));
    if (!s || m?.[2] === undefined) {
      res.writeHead(404).end();
      return;
    }
    s.call(m[2], res);
  });
  server.on('upgrade', (req, socket, head) => {
    const secret = requestSecret(req);
    const n = secret === null ? undefined : byToken.get(secret);
    if (n === undefined) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.get(n)?.ws.terminate();
      const s = new RelaySocket(ws);
      sockets.set(n, s);
      ws.on('error', () => undefined);
      ws.on('close', () => {
        if (sockets.get(n) === s) sockets.delete(n);
      });
    });
  });
  return new Promise<{ url: string; close: () => void }>((resolve) => {
    server.listen({ port, host, backlog }, () => {
      const { port: p } = server.address() as AddressInfo;
      resolve({ url: `http://${host}:${p}`, close: () => server.close() });
    });
  });
}

const isMainModule = process.argv[1]?.endsWith('minimal-relay.ts') ?? false;
if (isMainModule) {
  const { values } = parseArgs({
    options: {
      passwords: { type: 'string' },
      host: { type: 'string' },
      backlog: { type: 'string' },
    },
  });
  if (values.passwords === undefined) throw new Error('--passwords FILE is required');
  const passwords = readFileSync(values.passwords, 'utf8').split('\n').filter(Boolean);
  void startRelay(passwords, values.host ?? '127.0.0.1', 0, Number(values.backlog ?? 511)).then(
    ({ url }) => console.log(`relay: ${url}`),
  );
}
