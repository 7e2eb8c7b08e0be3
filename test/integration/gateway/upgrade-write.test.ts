/**
 * Issue 11: in a connect storm the hub's socket writes (one syscall per frame) were a tenth of its
 * time. The 101 answer and the first liveness ping (PROTOCOL.md 1) leave in one write, so a raw
 * client reads both in its first chunk, and the server's socket made a single write for them
 * (seen on net.Socket's own write hooks: the write holding the 101 holds the ping too, one
 * `_writev` instead of two `_write`s).
 */
import { connect, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../support/hub-harness';

describe('device upgrade: the 101 answer and the first ping in one write', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a raw client reads both in its first chunk', async () => {
    const dev = await t.createDevice();
    const { port } = new URL(t.http);
    type WriteHook = (this: Socket, ...args: unknown[]) => unknown;
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', WriteHook>;
    const original = { _write: proto._write, _writev: proto._writev };
    for (let round = 0; round < 5; round++) {
      const sock = connect(Number(port), '127.0.0.1');
      const serverWrites: Buffer[] = [];
      for (const name of ['_write', '_writev'] as const) {
        proto[name] = function (this: Socket, ...args: unknown[]) {
          if (this !== sock) {
            const parts =
              name === '_writev'
                ? (args[0] as { chunk: Buffer | string }[]).map((c) => c.chunk)
                : [args[0] as Buffer | string];
            serverWrites.push(Buffer.concat(parts.map((c) => Buffer.from(c as never))));
          }
          return original[name].apply(this, args);
        };
      }
      const first = await new Promise<Buffer>((resolve, reject) => {
        sock.once('error', reject);
        sock.once('data', resolve);
        sock.write(
          [
            'GET /api/v2/rpc HTTP/1.1',
            `Host: 127.0.0.1:${port}`,
            'Upgrade: websocket',
            'Connection: Upgrade',
            'Sec-WebSocket-Version: 13',
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
            `Authorization: Bearer ${dev.token}`,
            '',
            '',
          ].join('\r\n'),
        );
      });
      proto._write = original._write;
      proto._writev = original._writev;
      sock.destroy();
      // The server write with the 101 answer carries the ping too (other sockets of this process,
      // such as the previous round's session, may write meanwhile: they are not looked at).
      const answer = serverWrites
        .map((w) => w.toString('latin1'))
        .filter((w) => w.includes('HTTP/1.1 101'));
      expect(answer).toHaveLength(1);
      expect(answer[0]?.startsWith('HTTP/1.1 101')).toBe(true);
      expect(answer[0]?.endsWith('\x89\x00')).toBe(true);
      const text = first.toString('latin1');
      expect(text.startsWith('HTTP/1.1 101')).toBe(true);
      const end = text.indexOf('\r\n\r\n') + 4;
      // A ping frame: FIN + opcode 9, an empty unmasked payload.
      expect([...first.subarray(end, end + 2)]).toEqual([0x89, 0x00]);
    }
  });
});
