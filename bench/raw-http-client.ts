/**
 * The leanest keep-alive HTTP/1.1 GET client we can write, for the REST RPC load of issue 11: one
 * socket per closed-loop caller, one request in flight on it, a request line built once per path,
 * a reply read by its Content-Length. `node:http`'s client (http-json.ts) costs about as much CPU
 * per call as the relay it measures; on two cores the load generator's CPU is taken from the
 * server under test, and its own scheduling delays show in every latency. Hub and relay are driven
 * by this same client, so their ratio stays fair.
 *
 * Replies must carry Content-Length (the hub's and the relay's do); chunked replies are refused.
 */
import { connect, type Socket } from 'node:net';

export interface RawReply {
  status: number;
  body: string;
}

interface Waiter {
  resolve: (r: RawReply) => void;
  reject: (e: Error) => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');

class Connection {
  private socket: Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private waiter: Waiter | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  request(head: string): Promise<RawReply> {
    if (this.waiter !== null) return Promise.reject(new Error('one request at a time'));
    const socket = this.socket ?? this.open();
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      socket.write(head);
    });
  }

  close(): void {
    const s = this.socket;
    this.socket = null;
    this.buf = Buffer.alloc(0);
    s?.destroy();
  }

  private open(): Socket {
    const s = connect({ host: this.host, port: this.port, noDelay: true });
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (e: Error): void => {
      // A socket we closed ourselves (or replaced) has no request of ours any more.
      if (this.socket !== s) return;
      this.socket = null;
      this.buf = Buffer.alloc(0);
      const w = this.waiter;
      this.waiter = null;
      w?.reject(e);
    };
    s.on('error', fail);
    s.on('close', () => fail(new Error('connection closed')));
    this.socket = s;
    return s;
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const end = this.buf.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (m === null) {
      this.waiter?.reject(new Error(`HTTP ${status} without Content-Length`));
      this.waiter = null;
      this.close();
      return;
    }
    const bodyStart = end + HEADER_END.length;
    const bodyEnd = bodyStart + Number(m[1]);
    if (this.buf.length < bodyEnd) return;
    const body = this.buf.toString('utf8', bodyStart, bodyEnd);
    this.buf = this.buf.subarray(bodyEnd);
    const w = this.waiter;
    this.waiter = null;
    w?.resolve({ status, body });
  }
}

/** `connections` keep-alive sockets; caller k always uses socket k. */
export class RawHttpPool {
  private readonly conns: Connection[];
  private readonly host: string;
  private readonly auth: string;

  constructor(baseUrl: string, key: string | null, connections: number) {
    const u = new URL(baseUrl);
    this.host = u.host;
    this.auth = key === null ? '' : `Authorization: Bearer ${key}\r\n`;
    this.conns = Array.from(
      { length: connections },
      () => new Connection(u.hostname, Number(u.port)),
    );
  }

  get(caller: number, path: string): Promise<RawReply> {
    const c = this.conns[caller];
    if (c === undefined) return Promise.reject(new Error(`no connection ${caller}`));
    return c.request(`GET ${path} HTTP/1.1\r\nHost: ${this.host}\r\n${this.auth}\r\n`);
  }

  close(): void {
    for (const c of this.conns) c.close();
  }
}
