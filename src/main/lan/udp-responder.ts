/**
 * One UDP socket answering datagrams (the SNTP server and the DNS responder share it). Binding
 * failures are returned, not thrown: a LAN service that cannot bind must never stop the hub
 * (issue 12). A handler that throws costs one datagram, counted, never the socket.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';

export type DatagramHandler = (
  msg: Buffer,
  from: RemoteInfo,
  reply: (data: Buffer) => void,
) => void | Promise<void>;

export interface BoundResponder {
  readonly port: number;
  close(): Promise<void>;
}

export type BindResult =
  { ok: true; responder: BoundResponder } | { ok: false; code: string | undefined; error: Error };

/** UDP is IPv4 here (devices on these LANs use it); a wildcard or IPv6 hub host binds 0.0.0.0. */
export function udpBindAddress(host: string): string {
  return isIPv4(host) ? host : '0.0.0.0';
}

export function bindResponder(
  host: string,
  port: number,
  handle: DatagramHandler,
  onHandlerError: (err: unknown) => void,
): Promise<BindResult> {
  const socket: Socket = createSocket({ type: 'udp4' });
  return new Promise((resolve) => {
    const onBindError = (err: NodeJS.ErrnoException): void => {
      try {
        socket.close();
      } catch {
        // Already closed by the failed bind: nothing to release.
      }
      resolve({ ok: false, code: err.code, error: err });
    };
    socket.once('error', onBindError);
    socket.bind({ port, address: udpBindAddress(host), exclusive: true }, () => {
      socket.off('error', onBindError);
      // After binding, a send error (an ICMP unreachable on Linux) must not crash the hub.
      socket.on('error', onHandlerError);
      socket.on('message', (msg, from) => {
        const reply = (data: Buffer): void => {
          socket.send(data, from.port, from.address, (err) => {
            if (err) onHandlerError(err);
          });
        };
        try {
          const pending = handle(msg, from, reply);
          if (pending) pending.catch(onHandlerError);
        } catch (err) {
          onHandlerError(err);
        }
      });
      resolve({
        ok: true,
        responder: {
          port: socket.address().port,
          close: () => new Promise<void>((done) => socket.close(() => done())),
        },
      });
    });
  });
}
