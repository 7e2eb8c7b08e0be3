/**
 * The HTTP.Request performer (PROTOCOL.md 2) against real local servers on port 0: pinned
 * resolution, destination checks on every hop, deadline, response size cap, body encoding.
 * Loopback targets need `allowLoopback`, which these tests set where they expect success.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../../src/shared/errors';
import { performHttpRequest, type PerformOptions } from '../../../src/main/data/http-request';
import type { DestinationPolicy } from '../../../src/main/data/http-request-guard';
import type { NormalizedHttpRequest } from '../../../src/main/data/http-request-schema';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

interface TestServer {
  port: number;
  url: string;
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

async function serve(handler: Handler): Promise<TestServer> {
  const seen: TestServer['seen'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: body.toString(),
      });
      handler(req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const OPEN: DestinationPolicy = {
  allowLoopback: true,
  allowLinkLocal: false,
  allowPrivate: true,
  ownPorts: [],
  localAddresses: [],
};
const DEFAULT: DestinationPolicy = { ...OPEN, allowLoopback: false };

function opts(over: Partial<PerformOptions> = {}, policy = OPEN): PerformOptions {
  return {
    timeoutMs: 5000,
    maxResponseBytes: 1000,
    maxRedirects: 5,
    policy: () => policy,
    ...over,
  };
}

function get(url: string, over: Partial<NormalizedHttpRequest> = {}): NormalizedHttpRequest {
  return { url, method: 'GET', headers: {}, body: null, ...over };
}

async function failure(p: Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HubError) return { kind: err.kind, message: err.message };
    throw err;
  }
  throw new Error('expected a failure');
}

describe('performHttpRequest', () => {
  let s: TestServer;
  let s2: TestServer;

  beforeAll(async () => {
    s = await serve((req, res, body) => {
      const path = req.url ?? '/';
      if (path === '/text') return res.end('hello');
      if (path === '/echo') {
        res.setHeader('content-type', 'application/json');
        return res.end(
          JSON.stringify({
            method: req.method,
            body: body.toString(),
            auth: req.headers['authorization'] ?? null,
          }),
        );
      }
      if (path === '/binary') return res.end(Buffer.from([0xff, 0x00, 0xfe]));
      if (path.startsWith('/size/')) {
        const n = Number(path.slice(6));
        return res.end('x'.repeat(n));
      }
      if (path.startsWith('/chunked/')) {
        const n = Number(path.slice(9));
        res.write('x'.repeat(Math.floor(n / 2)));
        return res.end('x'.repeat(n - Math.floor(n / 2)));
      }
      if (path === '/hang') return; // never answers
      if (path === '/slow-body') {
        res.writeHead(200, { 'content-length': '10' });
        return res.write('abc'); // never finishes
      }
      if (path.startsWith('/redirect?to=')) {
        const to = decodeURIComponent(path.slice('/redirect?to='.length));
        res.writeHead(Number(req.headers['x-status'] ?? 302), { location: to });
        return res.end();
      }
      if (path.startsWith('/loop/')) {
        const n = Number(path.slice(6));
        res.writeHead(302, { location: `/loop/${n + 1}` });
        return res.end();
      }
      res.statusCode = 404;
      res.end('no');
    });
    s2 = await serve((req, res) => {
      res.end(
        JSON.stringify({ host: req.headers.host, auth: req.headers['authorization'] ?? null }),
      );
    });
  });
  afterAll(async () => {
    await s.close();
    await s2.close();
  });

  it('returns status, headers and a text body', async () => {
    const r = await performHttpRequest(get(`${s.url}/text`), opts());
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello');
    expect(r.headers['content-length']).toBe('5');
    expect(r.encoding).toBeUndefined();
  });

  it('sends method, body and headers', async () => {
    const r = await performHttpRequest(
      get(`${s.url}/echo`, {
        method: 'POST',
        body: Buffer.from('{"t":21.5}'),
        headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
      }),
      opts(),
    );
    expect(JSON.parse(r.body)).toEqual({ method: 'POST', body: '{"t":21.5}', auth: 'Bearer x' });
  });

  it('returns a body that is not UTF-8 as base64', async () => {
    const r = await performHttpRequest(get(`${s.url}/binary`), opts());
    expect(r).toMatchObject({
      encoding: 'base64',
      body: Buffer.from([0xff, 0, 0xfe]).toString('base64'),
    });
  });

  it('HEAD returns headers and an empty body', async () => {
    const r = await performHttpRequest(get(`${s.url}/size/5000`, { method: 'HEAD' }), opts());
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
  });

  it('caps the response: exactly maxResponseBytes passes, one more fails (announced or chunked)', async () => {
    expect((await performHttpRequest(get(`${s.url}/size/1000`), opts())).body).toHaveLength(1000);
    expect((await performHttpRequest(get(`${s.url}/chunked/1000`), opts())).body).toHaveLength(
      1000,
    );
    expect((await failure(performHttpRequest(get(`${s.url}/size/1001`), opts()))).kind).toBe(
      'http_response_too_large',
    );
    expect((await failure(performHttpRequest(get(`${s.url}/chunked/1001`), opts()))).kind).toBe(
      'http_response_too_large',
    );
  });

  it('stops at the deadline: no answer, or a body that never ends', async () => {
    const t0 = Date.now();
    expect(
      (await failure(performHttpRequest(get(`${s.url}/hang`), opts({ timeoutMs: 200 })))).kind,
    ).toBe('http_timeout');
    expect(
      (await failure(performHttpRequest(get(`${s.url}/slow-body`), opts({ timeoutMs: 200 })))).kind,
    ).toBe('http_timeout');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a refused connection is an upstream failure', async () => {
    const gone = await serve(() => undefined);
    await gone.close();
    const f = await failure(performHttpRequest(get(gone.url), opts()));
    expect(f.kind).toBe('http_upstream_failed');
    expect(f.message).toMatch(/ECONNREFUSED/);
  });

  it('refuses loopback by default, whatever the spelling, without connecting', async () => {
    const before = s.seen.length;
    for (const host of [
      '127.0.0.1',
      'localhost',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '2130706433',
      '0x7f.1',
      '0.0.0.0',
    ]) {
      const f = await failure(
        performHttpRequest(get(`http://${host}:${s.port}/text`), opts({}, DEFAULT)),
      );
      expect(f.kind, host).toBe('http_destination_forbidden');
    }
    expect(s.seen.length).toBe(before);
  });

  it('connects to the address it checked: one resolution, pinned (no DNS rebinding)', async () => {
    const calls: string[] = [];
    // A rebinding resolver: allowed the first time, something else after.
    const answers: LookupAddress[][] = [
      [{ address: '127.0.0.1', family: 4 }],
      [{ address: '169.254.169.254', family: 4 }],
    ];
    const resolve = async (h: string): Promise<LookupAddress[]> => {
      calls.push(h);
      return answers[Math.min(calls.length - 1, 1)] ?? [];
    };
    const r = await performHttpRequest(
      get(`http://device-api.test:${s2.port}/`),
      opts({ resolve }),
    );
    expect(JSON.parse(r.body)).toMatchObject({ host: `device-api.test:${s2.port}` });
    expect(calls).toEqual(['device-api.test']);
  });

  it('refuses a name when any of its addresses is forbidden', async () => {
    const resolve = async (): Promise<LookupAddress[]> => [
      { address: '93.184.215.14', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ];
    const f = await failure(
      performHttpRequest(get('http://meta.test/'), opts({ resolve }, DEFAULT)),
    );
    expect(f.kind).toBe('http_destination_forbidden');
    expect(f.message).toMatch(/169\.254\.169\.254.*link-local/);
  });

  it('follows redirects, checking every hop', async () => {
    const ok = await performHttpRequest(
      get(`${s.url}/redirect?to=${encodeURIComponent('/text')}`),
      opts(),
    );
    expect(ok.body).toBe('hello');
    // Loopback allowed, link-local not: the metadata address is refused at the hop.
    const meta = await failure(
      performHttpRequest(
        get(
          `${s.url}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`,
        ),
        opts(),
      ),
    );
    expect(meta.kind).toBe('http_destination_forbidden');
    // A hop to a port the policy owns (the hub's) is refused too.
    const own = await failure(
      performHttpRequest(
        get(`${s.url}/redirect?to=${encodeURIComponent(`${s2.url}/`)}`),
        opts({}, { ...OPEN, ownPorts: [s2.port] }),
      ),
    );
    expect(own.kind).toBe('http_destination_forbidden');
    expect(s2.seen).toHaveLength(1); // only the pinned-lookup test above reached it
    // Schemes other than http(s) are refused at the hop.
    const file = await failure(
      performHttpRequest(
        get(`${s.url}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`),
        opts(),
      ),
    );
    expect(file.kind).toBe('http_upstream_failed');
  });

  it('stops after maxRedirects; 0 returns the 3xx itself', async () => {
    const f = await failure(performHttpRequest(get(`${s.url}/loop/0`), opts({ maxRedirects: 5 })));
    expect(f).toMatchObject({ kind: 'http_upstream_failed', message: 'more than 5 redirects' });
    const seen = s.seen.filter((x) => x.url.startsWith('/loop/')).length;
    expect(seen).toBe(6);
    const r = await performHttpRequest(get(`${s.url}/loop/0`), opts({ maxRedirects: 0 }));
    expect(r.status).toBe(302);
    expect(r.headers['location']).toBe('/loop/1');
  });

  it('303 turns POST into GET without body; credentials do not follow to another origin', async () => {
    const r = await performHttpRequest(
      get(`${s.url}/redirect?to=${encodeURIComponent('/echo')}`, {
        method: 'POST',
        body: Buffer.from('x=1'),
        headers: { 'x-status': '303', authorization: 'Bearer same-origin' },
      }),
      opts(),
    );
    expect(JSON.parse(r.body)).toEqual({ method: 'GET', body: '', auth: 'Bearer same-origin' });
    const cross = await performHttpRequest(
      get(`${s.url}/redirect?to=${encodeURIComponent(`${s2.url}/`)}`, {
        headers: { authorization: 'Bearer secret' },
      }),
      opts(),
    );
    expect(JSON.parse(cross.body)).toMatchObject({ auth: null });
  });
});
