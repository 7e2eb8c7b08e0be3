/**
 * The serial monitor WebSocket `/api/v2/local/monitor?port=P&baud=B[&format=lines|data|both]`
 * (issue: "Stream a port's output to API clients over a WebSocket, send input, change baud, reset
 * the board; detect ESP32 panic backtraces and decode them").
 *
 * Everything that can be refused is refused before the upgrade, with a coded JSON error: the
 * master key (401), the query (400), a port that does not exist (404), a port someone else holds
 * (409 port_busy naming the owner: a flash job, another monitor), a port that cannot be opened.
 * A session then holds the port lease until the socket closes or the board goes away. Client and
 * server frames are the ones of monitor-commands.ts.
 *
 * ELF symbols for panic decoding are kept per port (`setSymbols`, fed by
 * `POST /api/v2/local/monitor/symbols`): a monitor open on that port gets them at once, later
 * sessions when they start.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { HubError } from '../../shared/errors';
import { firstProblem } from '../validate';
import { requestSecret } from '../gateway/upgrade-auth';
import type { KeysRepo } from '../store/keys-repo';
import { rejectUpgrade } from '../gateway/upgrade-reject';
import type { SymbolTable } from '../firmware/elf-symbols';
import {
  MAX_CLIENT_FRAME_CHARS,
  forwardMonitorEvents,
  handleMonitorCommand,
  type MonitorServerMessage,
} from '../flasher/monitor/monitor-commands';
import { SerialMonitor, type SerialMonitorOptions } from '../flasher/monitor/serial-monitor';
import {
  canonicalPortPath,
  type PortLease,
  type PortRegistry,
} from '../flasher/serial/port-registry';
import { isSerialDevice } from '../flasher/jobs/job-manager';
import { MonitorQuery } from './local-schemas';

export const DEFAULT_MONITOR_BAUD = 115200;
/** A client that does not read its socket is dropped past this much buffered output. */
export const MAX_MONITOR_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface MonitorEndpointDeps {
  keys: KeysRepo;
  registry: PortRegistry;
  portExists?: (path: string) => boolean;
  monitor?: SerialMonitorOptions;
}

interface Session {
  id: string;
  port: string;
  ws: WebSocket;
  monitor: SerialMonitor;
  lease: PortLease;
  /** The API key the socket was opened with (revoking the key closes it). */
  keyId: string;
}

export class MonitorEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_FRAME_CHARS + 1024,
  });
  private readonly sessions = new Set<Session>();
  private readonly symbols = new Map<string, SymbolTable>();
  private closed = false;

  private readonly unsubscribe: () => void;

  constructor(private readonly deps: MonitorEndpointDeps) {
    this.unsubscribe = deps.keys.onRemoved((id) => {
      for (const s of this.sessions) {
        if (s.keyId === id && s.ws.readyState === s.ws.OPEN) s.ws.close(4003, 'API key revoked');
      }
    });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Sets (or clears) the panic-decoding symbols of a port; returns whether a session uses them now. */
  setSymbols(port: string, table: SymbolTable | null): { active: boolean } {
    const key = canonicalPortPath(port);
    if (table) this.symbols.set(key, table);
    else this.symbols.delete(key);
    let active = false;
    for (const s of this.sessions) {
      if (canonicalPortPath(s.port) === key) {
        s.monitor.setSymbols(table);
        active = true;
      }
    }
    return { active };
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.accept(req, socket, head).catch((err: unknown) => {
      const e = err instanceof HubError ? err : new HubError('internal', String(err));
      if (!socket.destroyed) rejectUpgrade(socket, e);
    });
  }

  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.closed) throw new HubError('conflict', 'the hub is shutting down');
    const secret = requestSecret(req);
    const key =
      secret === null ? undefined : this.deps.keys.verify(secret, Math.floor(Date.now() / 1000));
    if (!key) {
      throw new HubError('unauthorized', secret === null ? 'missing API key' : 'invalid API key');
    }
    const query = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
    const problem = firstProblem(MonitorQuery, query);
    if (problem !== null) throw new HubError('validation_failed', problem);
    const port = String(query['port']);
    const baud = query['baud'] === undefined ? DEFAULT_MONITOR_BAUD : Number(query['baud']);
    const format = (query['format'] ?? 'lines') as 'lines' | 'data' | 'both';
    if (!(this.deps.portExists ?? isSerialDevice)(port)) {
      throw new HubError('port_not_found', `serial port ${port} does not exist`);
    }
    const id = `m${randomBytes(4).toString('hex')}`;
    const lease = this.deps.registry.acquire(port, { kind: 'monitor', id });
    const monitor = new SerialMonitor({
      ...this.deps.monitor,
      symbols: this.symbols.get(lease.path) ?? null,
    });
    try {
      await monitor.open({ path: port, baud });
    } catch (err) {
      lease.release();
      throw err;
    }
    if (socket.destroyed || this.closed) {
      await monitor.close().catch(() => {});
      lease.release();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      this.attach({ id, port, ws, monitor, lease, keyId: key.id }, format),
    );
  }

  private attach(s: Session, format: 'lines' | 'data' | 'both'): void {
    this.sessions.add(s);
    const { ws, monitor } = s;
    const send = (msg: MonitorServerMessage): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_MONITOR_BUFFERED_BYTES) {
        ws.terminate();
        return;
      }
      ws.send(JSON.stringify(msg));
    };
    const unforward = forwardMonitorEvents(monitor, send, { lines: format !== 'data' });
    const onData = (chunk: Buffer): void =>
      send({ type: 'data', base64: chunk.toString('base64') });
    if (format === 'both') monitor.on('data', onData);

    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.sessions.delete(s);
      unforward();
      monitor.off('data', onData);
      // Closing the port first, then the lease: nobody else may open it while we still do.
      void monitor
        .close()
        .catch(() => {})
        .finally(() => s.lease.release());
    };
    monitor.once('close', (info) => {
      // The board went away (or the port failed): the session is over; the frame went out above.
      const code = info.reason === 'closed' ? 1000 : 1011;
      if (ws.readyState === ws.OPEN) ws.close(code, info.reason);
      end();
    });
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      void handleMonitorCommand(monitor, text).then(send);
    });
    ws.on('close', end);
    ws.on('error', end);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.closed = true;
    for (const s of [...this.sessions]) s.ws.terminate();
    await Promise.all([...this.sessions].map((s) => s.monitor.close().catch(() => {})));
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
