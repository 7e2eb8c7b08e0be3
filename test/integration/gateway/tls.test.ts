import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawDevice, startTestHub, waitFor, type TestHub } from '../../support/hub-harness';
import type { DeviceObject } from '../../../src/shared/types';

function httpsGet(url: string, ca: string, key: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers: { authorization: `Bearer ${key}` } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('wss:// and https:// (PROTOCOL.md 1, 4)', () => {
  let t: TestHub;
  let dev: DeviceObject;
  let ca: string;
  let wss: string;
  beforeAll(async () => {
    t = await startTestHub({ tlsPort: 0 });
    dev = await t.createDevice();
    const urls = t.hub.urls();
    expect(urls.caPath).toBeDefined();
    ca = readFileSync(urls.caPath ?? '', 'utf8');
    const port = new URL(urls.https ?? '').port;
    wss = `wss://localhost:${port}/api/v2/rpc`;
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a device trusting the local CA connects over wss and finishes the session steps', async () => {
    const d = await RawDevice.connect(wss, {
      ca,
      headers: { authorization: `Bearer ${dev.token}` },
    });
    await d.answerGetInfo({ fw_version: 'tls-1' });
    await waitFor(async () => {
      const g = await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`);
      return (
        g.body.online &&
        JSON.stringify(g.body.shadow.state.reported['ota']) === '{"fw_version":"tls-1"}'
      );
    });
    d.close();
    await d.closed();
  });

  it('refuses a bad password over wss with 401, and a client that does not trust the CA fails the handshake', async () => {
    await expect(
      RawDevice.connect(wss, { ca, headers: { authorization: 'Bearer wrong' } }),
    ).rejects.toThrow('HTTP 401');
    await expect(
      RawDevice.connect(wss, { headers: { authorization: `Bearer ${dev.token}` } }),
    ).rejects.toThrow();
    // The hub is unharmed by the failed handshake.
    expect((await t.api('GET', '/api/v2/devices')).status).toBe(200);
  });

  it('serves the REST API over https', async () => {
    const url = `${t.hub.urls().https}/api/v2/devices/${dev.id}`.replace('127.0.0.1', 'localhost');
    const r = await httpsGet(url, ca, t.key);
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as DeviceObject).id).toBe(dev.id);
    const denied = await httpsGet(url, ca, 'bad');
    expect(denied.status).toBe(401);
  });
});

/** Sends `text` over a TLS socket and resolves with everything the server wrote before closing. */
function tlsExchange(
  port: number,
  ca: string,
  text: string,
): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () =>
      socket.write(text),
    );
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ text: out, closedAfterMs: Date.now() - started }));
  });
}

function statusAndBody(text: string): { status: number; type: string; body: unknown } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const type = /content-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {
    // not JSON: keep the text
  }
  return { status, type, body: parsed };
}

describe('the TLS listener has the HTTP listener protections (issue 7 items 8, 14)', () => {
  const headersTimeoutMs = 600;
  let t: TestHub;
  let ca: string;
  let port: number;
  const coded = (code: number): unknown => ({ error: { code, message: expect.any(String) } });

  beforeAll(async () => {
    t = await startTestHub({ tlsPort: 0, timings: { headersTimeoutMs, requestTimeoutMs: 2500 } });
    const urls = t.hub.urls();
    ca = readFileSync(urls.caPath ?? '', 'utf8');
    port = Number(new URL(urls.https ?? '').port);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('headers that never finish get a coded 408 after headersTimeoutMs', async () => {
    const r = await tlsExchange(port, ca, 'GET /api/v2/devices HTTP/1.1\r\nHost: x\r\n');
    const res = statusAndBody(r.text);
    expect(res.status).toBe(408);
    expect(res.type).toContain('application/json');
    expect(res.body).toEqual(coded(408));
    expect(r.closedAfterMs).toBeLessThan(headersTimeoutMs + 1500);
  });

  it('headers over the parser limit get a coded 431', async () => {
    const r = await tlsExchange(
      port,
      ca,
      `GET /api/v2/devices HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    const res = statusAndBody(r.text);
    expect(res.status).toBe(431);
    expect(res.body).toEqual(coded(431));
  });

  it('a request line the parser cannot read gets a coded 400', async () => {
    const r = await tlsExchange(port, ca, 'GET /api/v2/devices HTTP/9\r\n\r\n');
    const res = statusAndBody(r.text);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(coded(400));
  });
});
