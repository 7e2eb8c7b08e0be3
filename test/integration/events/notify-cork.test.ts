/**
 * A notify subscriber gets every frame of one event-loop turn in ONE socket write (notify-socket.ts,
 * issue 11), still in order and whole, and a burst within one turn is not mistaken for a slow
 * consumer. Real WebSocket server and client on port 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { NotificationBus } from '../../../src/main/events/notification-bus';
import { attachNotifySocket } from '../../../src/main/events/notify-socket';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A server whose upgraded sockets count their writes to the kernel. */
async function start(
  bus: NotificationBus,
  maxBufferedBytes: number,
): Promise<{ url: string; writes: () => number; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ noServer: true });
  let writes = 0;
  server = createServer();
  server.on('upgrade', (req, socket: Socket, head) => {
    const s = socket as Socket & { _writev: unknown; _write: unknown };
    const writev = s._writev as (...a: unknown[]) => unknown;
    const write = s._write as (...a: unknown[]) => unknown;
    s._writev = (...a: unknown[]) => (writes++, writev.apply(s, a));
    s._write = (...a: unknown[]) => (writes++, write.apply(s, a));
    wss.handleUpgrade(req, socket, head, (ws) => {
      attachNotifySocket(bus, ws, { socket, maxBufferedBytes });
      ws.send('ready');
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}`, writes: () => writes, wss };
}

describe('notify socket corking', () => {
  it('sends the frames of one turn in one write, all of them, in order', async () => {
    const bus = new NotificationBus();
    const srv = await start(bus, 4 * 1024 * 1024);
    const client = new WebSocket(srv.url);
    const got: string[] = [];
    await new Promise<void>((resolve) =>
      client.on('message', (d) => {
        if (d.toString() === 'ready') return resolve();
        got.push(d.toString());
      }),
    );
    const before = srv.writes();
    for (let i = 0; i < 50; i++) bus.publish({ name: 'updated', id: 'd', data: { i } });
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (got.length >= 50) {
          clearInterval(t);
          r();
        }
      }, 5);
    });
    expect(srv.writes() - before).toBe(1);
    expect(got.map((t) => (JSON.parse(t) as { data: { i: number } }).data.i)).toEqual([
      ...Array(50).keys(),
    ]);
    client.close();
    for (const c of srv.wss.clients) c.terminate();
  });

  it('does not drop a subscriber for a burst of one turn larger than its buffer limit', async () => {
    const bus = new NotificationBus();
    const srv = await start(bus, 10_000);
    const client = new WebSocket(srv.url);
    let n = 0;
    let closed = false;
    client.on('close', () => (closed = true));
    await new Promise<void>((resolve) =>
      client.on('message', (d) => (d.toString() === 'ready' ? resolve() : n++)),
    );
    const big = 'x'.repeat(1000);
    for (let i = 0; i < 40; i++) bus.publish({ name: 'updated', id: 'd', data: { big } });
    await new Promise((r) => setTimeout(r, 300));
    expect(n).toBe(40);
    expect(closed).toBe(false);
    client.close();
    for (const c of srv.wss.clients) c.terminate();
  });
});
