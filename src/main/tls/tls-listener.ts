/**
 * The hub's second listener: the same Fastify routes and the same WebSocket endpoints over TLS
 * (https:// and wss://, PROTOCOL.md 1 and 4).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { HubTimings } from '../config';
import { serverTimeoutOptions } from '../api/http-server';
import { clientErrorHandler } from '../api/error-handler';
import { ensureTlsMaterial } from './tls-material';

export interface TlsListener {
  server: Server;
  port: number;
  caPath?: string;
  /**
   * Makes sure the server certificate covers `names` (the LAN addresses changed): when it does
   * not, a new one signed by the same local CA is made and swapped into the running listener
   * (new handshakes get it; no restart, open connections stay). A user-supplied certificate is
   * never replaced. True when a new certificate was made.
   */
  refresh(names: string[]): Promise<boolean>;
  close(): Promise<void>;
}

export interface TlsListenerOptions {
  host: string;
  port: number;
  dataDir: string;
  names: string[];
  certFile?: string;
  keyFile?: string;
  /** The same request deadlines as the HTTP listener (issue 7 item 14). */
  timings: Pick<HubTimings, 'headersTimeoutMs' | 'requestTimeoutMs'>;
  /** Listen backlog (config `limits.listenBacklog`); Node's 511 when absent. */
  backlog?: number;
}

export async function startTlsListener(
  app: FastifyInstance,
  opts: TlsListenerOptions,
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<TlsListener> {
  const material = await ensureTlsMaterial(opts.dataDir, {
    names: opts.names,
    ...(opts.certFile !== undefined && { certFile: opts.certFile }),
    ...(opts.keyFile !== undefined && { keyFile: opts.keyFile }),
  });
  // Same protections as the HTTP listener: header and request deadlines (slow clients get 408),
  // and client errors (bad request, oversize headers, timeouts) answered in the catalog's JSON.
  const server = createServer(
    { key: material.key, cert: material.cert, ...serverTimeoutOptions(opts.timings) },
    (req, res) => app.routing(req, res),
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
    clientErrorHandler(err, socket as Socket),
  );
  server.on('upgrade', onUpgrade);
  // A client that fails the handshake (untrusted CA) must not be an unhandled error.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port, host: opts.host, backlog: opts.backlog ?? 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    ...(material.caPath !== undefined && { caPath: material.caPath }),
    async refresh(names) {
      if (opts.certFile !== undefined || opts.keyFile !== undefined) return false;
      const next = await ensureTlsMaterial(opts.dataDir, { names });
      if (!next.generated) return false;
      server.setSecureContext({ key: next.key, cert: next.cert });
      return true;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
