/**
 * The notify stream client against a real WebSocket server (the `ws` package stands in for the
 * browser's WebSocket, with the same onopen/onmessage/onclose surface).
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import {
  openNotifyStream,
  type NotifyStatus,
  type SocketLike,
} from '../../../src/renderer/api/notify-stream';
import type { Notification } from '../../../src/shared/types';

const createSocket = (url: string): SocketLike => new WebSocket(url) as unknown as SocketLike;

async function listen(port = 0): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return wss;
}

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

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

describe('openNotifyStream', () => {
  it('delivers valid frames in one batch and counts invalid ones', async () => {
    const wss = await listen();
    servers.push(wss);
    const seenUrls: string[] = [];
    wss.on('connection', (ws, req) => {
      seenUrls.push(req.url ?? '');
      ws.send(JSON.stringify({ name: 'online', id: 'a', data: null }));
      ws.send('not json');
      ws.send(JSON.stringify({ id: 'no-name' }));
      ws.send(JSON.stringify({ name: 'rpc.out.Log', id: 'a', data: { fd: 1, data: 'x' } }));
      ws.send(JSON.stringify({ name: 'offline', id: 'a' }));
    });
    const batches: Notification[][] = [];
    let invalid = 0;
    const port = (wss.address() as AddressInfo).port;
    const stream = openNotifyStream({
      url: `ws://127.0.0.1:${port}/api/v2/notify?access_token=k`,
      createSocket,
      onBatch: (b) => batches.push(b),
      onStatus: () => {},
      onInvalid: (n) => (invalid = n),
      batchMs: 40,
    });
    await until(() => batches.length > 0 && invalid === 2);
    stream.close();
    expect(seenUrls[0]).toContain('access_token=k');
    expect(batches).toHaveLength(1);
    expect(batches[0]?.map((n) => n.name)).toEqual(['online', 'rpc.out.Log', 'offline']);
  });

  it('reconnects with backoff after the server drops it or goes away, and stops on close()', async () => {
    let wss = await listen();
    const port = (wss.address() as AddressInfo).port;
    servers.push(wss);
    const statuses: NotifyStatus['state'][] = [];
    const opens: boolean[] = [];
    const stream = openNotifyStream({
      url: `ws://127.0.0.1:${port}/`,
      createSocket,
      onBatch: () => {},
      onStatus: (s) => statuses.push(s.state),
      onOpen: ({ reconnect }) => opens.push(reconnect),
      backoff: { baseMs: 20, maxMs: 80 },
    });
    await until(() => opens.length === 1);
    expect(opens).toEqual([false]);

    // The server drops the connection: the client comes back by itself.
    for (const c of wss.clients) c.terminate();
    await until(() => opens.length === 2);
    expect(opens[1]).toBe(true);
    expect(statuses).toContain('reconnecting');

    // The server goes away for a while, then returns on the same port.
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    servers.splice(servers.indexOf(wss), 1);
    const before = statuses.filter((s) => s === 'reconnecting').length;
    await until(() => statuses.filter((s) => s === 'reconnecting').length >= before + 3);
    wss = await listen(port);
    servers.push(wss);
    await until(() => opens.length === 3, 5000);

    stream.close();
    expect(statuses[statuses.length - 1]).toBe('closed');
    await until(() => wss.clients.size === 0);
    const count = opens.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(opens.length).toBe(count);
  });

  it('retryNow skips the wait', async () => {
    const wss = await listen();
    servers.push(wss);
    const port = (wss.address() as AddressInfo).port;
    let opens = 0;
    let lastStatus: NotifyStatus = { state: 'closed' };
    const stream = openNotifyStream({
      url: `ws://127.0.0.1:${port}/`,
      createSocket,
      onBatch: () => {},
      onStatus: (s) => (lastStatus = s),
      onOpen: () => opens++,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    await until(() => opens === 1);
    for (const c of wss.clients) c.terminate();
    await until(() => lastStatus.state === 'reconnecting');
    stream.retryNow();
    await until(() => opens === 2, 1000);
    stream.close();
  });
});
