/**
 * The minimal relay of issue 11, as its own process: the floor the hub is compared with by both the
 * connection storm (connection-storm.ts --relay, relay-storm.ts) and the REST RPC benchmark
 * (rpc-vs-relay.ts). An HTTP server whose WebSocket upgrade checks the device password against an
 * in-memory map (Bearer header or `?access_token=`, 401 otherwise) and keeps the socket, and which
 * forwards `GET|POST /devices/:id/rpc/:method` as ONE frame `{"id","method","params","src"}` to that
 * device's socket and answers with the reply's result (or error). Nothing else: no auth of HTTP
 * clients, no store, no notifications, no pings, no session steps.
 *
 * Run: node --import tsx bench/minimal-relay.ts --devices FILE [--host H] [--backlog N]
 * FILE has one device a line: `<id> <token>`, or just `<token>` (the device's id is then its line
 * number from 0). The backlog is the listen backlog (Node's default 511; the hub's is its config
 * `limits.listenBacklog`). Prints `relay: http://HOST:PORT`; `GET /status` answers `{"online":N}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { requestSecret } from '../src/main/gateway/upgrade-auth';

const CALL_TIMEOUT_MS = 30_000;
const RPC_PATH = /^\/devices\/([^/]+)\/rpc\/([^/?]+)/;

interface Pending {
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** `<id> <token>` or `<token>` lines -> id by token. */
export function parseDeviceFile(text: string): Map<string, string> {
  const idByToken = new Map<string, string>();
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .forEach((line, i) => {
      const [a, b] = line.split(/\s+/);
      if (b !== undefined && a !== undefined) idByToken.set(b, a);
      else if (a !== undefined) idByToken.set(a, String(i));
    });
  return idByToken;
}

export function startRelay(
  idByToken: ReadonlyMap<string, string>,
  host: string,
  port = 0,
  backlog = 511,
): Promise<{ url: string; close: () => void }> {
  const sockets = new Map<string, WebSocket>();
  const pending = new Map<number, Pending>();
  let nextId = 1;

  function forward(id: string, method: string, params: string, res: ServerResponse): void {
    const ws = sockets.get(id);
    if (!ws) return answer(res, 404, '{"error":"device offline"}');
    const callId = nextId++;
    const timer = setTimeout(() => {
      pending.delete(callId);
      answer(res, 504, '{"error":"timeout"}');
    }, CALL_TIMEOUT_MS);
    pending.set(callId, { res, timer });
    ws.send(`{"id":${callId},"method":${JSON.stringify(method)},"params":${params},"src":"relay"}`);
  }

  function onReply(data: WebSocket.RawData): void {
    // Replies carry "id" and "result"/"error"; notifications from the device carry "method".
    let frame: { id?: unknown; result?: unknown; error?: unknown; method?: unknown };
    try {
      frame = JSON.parse(data.toString()) as typeof frame;
    } catch {
      return;
    }
    if (typeof frame.id !== 'number' || frame.method !== undefined) return;
    const p = pending.get(frame.id);
    if (!p) return;
    pending.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.error !== undefined) answer(p.res, 500, JSON.stringify({ error: frame.error }));
    else answer(p.res, 200, JSON.stringify(frame.result ?? null));
  }

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (url === '/status') return answer(res, 200, JSON.stringify({ online: sockets.size }));
    const m = RPC_PATH.exec(url);
    if (!m || m[1] === undefined || m[2] === undefined) return answer(res, 404, '{}');
    const [id, method] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => forward(id, method, body.trim() === '' ? '{}' : body, res));
  });
  server.on('upgrade', (req, socket, head) => {
    const secret = requestSecret(req);
    const id = secret === null ? undefined : idByToken.get(secret);
    if (id === undefined) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.get(id)?.terminate();
      sockets.set(id, ws);
      ws.on('message', onReply);
      ws.on('error', () => undefined);
      ws.on('close', () => {
        if (sockets.get(id) === ws) sockets.delete(id);
      });
    });
  });
  return new Promise((resolve) => {
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
      devices: { type: 'string' },
      host: { type: 'string' },
      backlog: { type: 'string' },
    },
  });
  if (values.devices === undefined) throw new Error('--devices FILE is required');
  const idByToken = parseDeviceFile(readFileSync(values.devices, 'utf8'));
  void startRelay(idByToken, values.host ?? '127.0.0.1', 0, Number(values.backlog ?? 511)).then(
    ({ url }) => console.log(`relay: ${url}`),
  );
  process.on('SIGTERM', () => process.exit(0));
}
