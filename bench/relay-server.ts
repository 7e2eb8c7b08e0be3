/**
 * The competitor of issue 11, as its own process: a minimal HTTP-to-WebSocket relay. Devices
 * connect to `/api/v2/rpc` with `Authorization: Bearer <token>` (the hub's URL and header, so the
 * same `fleetbench sim` connects to either); `GET|POST /devices/:id/rpc/:method` is forwarded as
 * ONE frame `{"id","method","params","src"}` to that device's socket and the reply's result (or
 * error) is the HTTP answer. Nothing else: no auth of HTTP clients, no store, no notifications,
 * no session steps. `GET /stats` tells how many devices are connected.
 *
 * Run: node --import tsx bench/relay-server.ts --devices FILE   (FILE: "<id> <token>" a line)
 * It prints `relay listening http://127.0.0.1:<port>` once ready.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';

interface Pending {
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

const CALL_TIMEOUT_MS = 30_000;

const { values } = parseArgs({ options: { devices: { type: 'string' } } });
if (values.devices === undefined) throw new Error('--devices FILE is required');
const idByToken = new Map<string, string>();
for (const line of readFileSync(values.devices, 'utf8').split('\n')) {
  const [id, token] = line.trim().split(/\s+/);
  if (id && token) idByToken.set(token, id);
}

const sockets = new Map<string, WebSocket>();
const pending = new Map<number, Pending>();
let nextId = 1;

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

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

const RPC_PATH = /^\/devices\/([^/]+)\/rpc\/([^/?]+)/;

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = req.url ?? '';
  if (url === '/stats') return answer(res, 200, JSON.stringify({ connected: sockets.size }));
  const m = RPC_PATH.exec(url);
  if (!m || m[1] === undefined || m[2] === undefined) return answer(res, 404, '{}');
  const [id, method] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => forward(id, method, body.trim() === '' ? '{}' : body, res));
});

const wss = new WebSocketServer({ server, path: '/api/v2/rpc', perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  const id = idByToken.get(token);
  if (id === undefined) return ws.close(4001, 'unknown device');
  sockets.get(id)?.terminate();
  sockets.set(id, ws);
  ws.on('close', () => {
    if (sockets.get(id) === ws) sockets.delete(id);
  });
  ws.on('message', (data) => {
    const text = data.toString();
    // Replies carry "id" and "result"/"error"; notifications from the device carry "method".
    let frame: { id?: unknown; result?: unknown; error?: unknown; method?: unknown };
    try {
      frame = JSON.parse(text) as typeof frame;
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
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`relay listening http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
