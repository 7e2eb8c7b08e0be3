/**
 * A turn's writes leave together after the turn (issue 11: one wake-up of the reader for the
 * turn, not one per write). Real loopback sockets: what a corked socket holds is in its
 * `writableLength` until the turn's end, and the peer reads it all, in order, after it.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TurnWrites } from '../../../src/main/gateway/turn-writes';

interface Pair {
  client: Socket;
  /** Resolves once the peer has read `text` in all. */
  until: (text: string) => Promise<void>;
}

const servers: Server[] = [];
const sockets: Socket[] = [];

async function pair(): Promise<Pair> {
  let got = '';
  const waiters: (() => void)[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      for (const w of waiters.splice(0)) w();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  sockets.push(client);
  await new Promise<void>((r) => client.once('connect', r));
  return {
    client,
    until: async (text) => {
      while (got !== text) {
        if (got.length >= text.length) throw new Error(`peer read '${got}', not '${text}'`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

/** A TurnWrites whose deferred tasks must not throw: a throw fails the test. */
function strictTurn(maxEntries?: number): TurnWrites {
  return new TurnWrites((err) => {
    throw err;
  }, maxEntries);
}

/** Resolves after the immediates queued so far (the turn's end) have run. */
const afterTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('TurnWrites', () => {
  it("holds a corked socket's writes until the turn's end, then sends them in order", async () => {
    const turn = strictTurn();
    const p = await pair();
    turn.cork(p.client);
    p.client.write('one,');
    turn.cork(p.client); // a second cork in the same turn is the same one
    p.client.write('two');
    expect(p.client.writableCorked).toBe(1);
    expect(p.client.writableLength).toBe('one,two'.length);
    await afterTurn();
    expect(p.client.writableCorked).toBe(0);
    expect(p.client.writableLength).toBe(0);
    await p.until('one,two');
  });

  it('runs deferred tasks at the end of the turn, after its promise reactions, in order', async () => {
    const turn = strictTurn();
    const seen: string[] = [];
    turn.defer(() => seen.push('first task'));
    void Promise.resolve().then(() => seen.push('promise reaction'));
    process.nextTick(() => seen.push('next tick'));
    turn.defer(() => seen.push('second task'));
    expect(seen).toEqual([]);
    await afterTurn();
    expect(seen.slice(0, 2).sort()).toEqual(['next tick', 'promise reaction']);
    expect(seen.slice(2)).toEqual(['first task', 'second task']);
  });

  it("runs the tasks before the sockets are sent: a task's write joins the turn's", async () => {
    const turn = strictTurn();
    const p = await pair();
    let buffered = -1;
    turn.defer(() => {
      p.client.write('b');
      buffered = p.client.writableLength;
    });
    turn.cork(p.client);
    p.client.write('a');
    await afterTurn();
    expect(buffered).toBe(2);
    await p.until('ab');
  });

  it('sends everything at once when maxEntries sockets and tasks wait', async () => {
    const turn = strictTurn(3);
    const a = await pair();
    const b = await pair();
    let ran = false;
    turn.cork(a.client);
    a.client.write('x');
    turn.cork(b.client);
    b.client.write('y');
    expect(a.client.writableLength).toBe(1);
    turn.defer(() => (ran = true));
    // The third entry sent the turn's writes at once, inside this same turn.
    expect(ran).toBe(true);
    expect(a.client.writableCorked).toBe(0);
    expect(b.client.writableCorked).toBe(0);
    await Promise.all([a.until('x'), b.until('y')]);
    // The turn's own end still comes, with nothing left to send.
    await afterTurn();
  });

  it('reports a task that throws; the other tasks run and the sockets are sent', async () => {
    const errors: unknown[] = [];
    const turn = new TurnWrites((err) => errors.push(err));
    const p = await pair();
    let after = false;
    turn.cork(p.client);
    p.client.write('kept');
    turn.defer(() => {
      throw new Error('a broken answer');
    });
    turn.defer(() => (after = true));
    await afterTurn();
    expect(errors.map((e) => (e as Error).message)).toEqual(['a broken answer']);
    expect(after).toBe(true);
    await p.until('kept');
  });

  it('leaves a destroyed socket alone, and one ended meanwhile is sent by its end', async () => {
    const turn = strictTurn();
    const gone = await pair();
    gone.client.destroy();
    turn.cork(gone.client);
    expect(gone.client.writableCorked).toBe(0);

    const p = await pair();
    turn.cork(p.client);
    p.client.write('last words');
    p.client.end(); // `end()` uncorks fully, as ws's close does
    expect(p.client.writableCorked).toBe(0);
    await afterTurn();
    await p.until('last words');
  });

  it('a task deferred by a task runs at the next turn', async () => {
    const turn = strictTurn();
    const seen: string[] = [];
    turn.defer(() => {
      seen.push('outer');
      turn.defer(() => seen.push('inner'));
    });
    await afterTurn();
    expect(seen).toEqual(['outer']);
    await afterTurn();
    expect(seen).toEqual(['outer', 'inner']);
  });
});
