/**
 * A small keep-alive HTTP client for the hub's REST API. Plain `node:http` with a pooled agent is
 * used instead of `fetch` because the load generator shares two cores with the hub: every
 * microsecond the client spends per call is taken from the process being measured.
 */
import { Agent, request } from 'node:http';

export interface HttpReply {
  status: number;
  text: string;
}

export class HubClient {
  readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    private readonly key: string,
    /** Sockets kept open; one per concurrent caller. */
    maxSockets = 64,
  ) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** One request; `body` is sent as JSON. Network errors reject; HTTP errors resolve. */
  send(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<HttpReply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.key}` };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.host, port: this.port, method, path, headers, agent: this.agent },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like send() but requires 2xx and parses the JSON body. */
  async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.send(method, path, body);
    if (r.status < 200 || r.status > 299) {
      throw new Error(`${method} ${path}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    }
    return JSON.parse(r.text) as unknown;
  }

  close(): void {
    this.agent.destroy();
  }
}
