/**
 * reuse of ws's fragment lists (src/main/receiver-fragments.ts, issue 11): over a real
 * socket, every message still arrives whole and in order (single frames, fragmented messages,
 * binary between text), and once a message is handed on the receiver keeps no reference to it.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { reuseFragmentList } from '../../../src/main/receiver-fragments';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const x of open.splice(0)) x.close();
});

/** A server whose sockets use the reused lists, and a client connected to it. */
async function pair(): Promise<{
  server: WebSocket;
  client: WebSocket;
  fragments: () => unknown[];
  received: Array<{ text: string; binary: boolean }>;
}> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  open.push(wss);
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  open.push(client);
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  const received: Array<{ text: string; binary: boolean }> = [];
  const reuse = reuseFragmentList(server);
  server.on('message', (data: Buffer, binary: boolean) => {
    reuse();
    received.push({ text: data.toString('utf8'), binary });
  });
  if (client.readyState !== WebSocket.OPEN) await once(client, 'open');
  const receiver = (server as unknown as { _receiver: { _fragments: unknown[] } })._receiver;
  return { server, client, fragments: () => receiver._fragments, received };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('reuseFragmentList', () => {
  it('delivers single, fragmented and binary messages whole and in order', async () => {
    const { client, received } = await pair();
    const expected: Array<{ text: string; binary: boolean }> = [];
    for (let i = 0; i < 50; i++) {
      if (i % 7 === 3) {
        // A message in three frames: continuation frames go through the same list.
        client.send(`part-a-${i}|`, { fin: false });
        client.send(`part-b-${i}|`, { fin: false });
        client.send(`part-c-${i}`, { fin: true });
        expected.push({ text: `part-a-${i}|part-b-${i}|part-c-${i}`, binary: false });
      } else if (i % 5 === 4) {
        client.send(Buffer.from(`bin-${i}`), { binary: true });
        expected.push({ text: `bin-${i}`, binary: true });
      } else {
        const text = JSON.stringify({ id: i, result: 'x'.repeat(i * 13) });
        client.send(text);
        expected.push({ text, binary: false });
      }
    }
    await until(() => received.length === expected.length);
    expect(received).toEqual(expected);
  });

  it('keeps one list for the socket, empty between messages', async () => {
    const { client, fragments, received } = await pair();
    const list = fragments();
    for (let i = 0; i < 6; i++) {
      client.send(`message ${i} `.repeat(100));
      await until(() => received.length === i + 1);
      // Without the reuse, the list of each message stays behind as the receiver's next one, and
      // the next frame goes into that list instead.
      expect(fragments()).toBe(list);
      expect(list).toHaveLength(0);
    }
  });

  it("works on a client's socket once it is open (fleetbench sim's devices)", async () => {
    const { server, client } = await pair();
    const reuse = reuseFragmentList(client);
    const texts: string[] = [];
    client.on('message', (data: Buffer) => {
      reuse();
      texts.push(data.toString());
    });
    const receiver = (client as unknown as { _receiver: { _fragments: unknown[] } })._receiver;
    const list = receiver._fragments;
    for (let i = 0; i < 4; i++) server.send(`to the device ${i}`);
    await until(() => texts.length === 4);
    expect(texts).toEqual([0, 1, 2, 3].map((i) => `to the device ${i}`));
    expect(receiver._fragments).toBe(list);
    expect(list).toHaveLength(0);
  });

  it('leaves a socket without the expected internals alone', () => {
    const odd = { _receiver: { _fragments: 'not a list' } };
    expect(() => reuseFragmentList(odd as unknown as WebSocket)()).not.toThrow();
    expect(odd._receiver._fragments).toBe('not a list');
    expect(() => reuseFragmentList({} as WebSocket)()).not.toThrow();
    // A list that is not the receiver's fresh empty one is never replaced.
    const busy = { _receiver: { _fragments: [] as unknown[] } };
    const reuse = reuseFragmentList(busy as unknown as WebSocket);
    const midMessage = [Buffer.from('part')];
    busy._receiver._fragments = midMessage;
    reuse();
    expect(busy._receiver._fragments).toBe(midMessage);
  });
});
