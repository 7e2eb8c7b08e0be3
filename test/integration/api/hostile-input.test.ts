/**
 * Hostile and malformed input on the management API (issue 7 items 8, 10, 11, 23): every answer
 * is a coded 4xx in the catalog's shape `{"error":{"code","message"}}` (PROTOCOL.md 4), including
 * what Node and plugins answer before a route runs, and a refused request changes nothing.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type ErrorBody, type TestHub } from '../../support/hub-harness';
import { DEFAULT_LIMITS } from '../../../src/main/config';
import type { DeviceObject } from '../../../src/shared/types';

/** Sends `text` on a fresh socket and returns everything the hub writes until it closes. */
export function rawExchange(port: number, text: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', () => undefined);
    setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got: ${out.slice(0, 200)}`));
    }, timeoutMs).unref();
  });
}

/** Status and parsed JSON body of a raw HTTP/1.1 response. */
export function parseRaw(res: string): { status: number; type: string; json: unknown } {
  const [head = '', body = ''] = res.split('\r\n\r\n', 2);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const type = /content-type: *([^\r\n]+)/i.exec(head)?.[1] ?? '';
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status, type, json };
}

const coded = (code: number): ErrorBody => ({ error: { code, message: expect.any(String) } });

describe('hostile input (issue 7)', () => {
  let t: TestHub;
  let port: number;

  beforeAll(async () => {
    t = await startTestHub();
    port = Number(new URL(t.http).port);
  });
  afterAll(async () => {
    await t.stop();
  });

  describe('framework-level errors use the catalog shape (item 8)', () => {
    it('headers over the parser limit: 431 with code 431 (raw socket)', async () => {
      const res = parseRaw(
        await rawExchange(
          port,
          `GET /api/v2/devices HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        ),
      );
      expect(res.status).toBe(431);
      expect(res.type).toContain('application/json');
      expect(res.json).toEqual(coded(431));
    });

    it('a request line the parser cannot read: 400 in the catalog shape', async () => {
      const res = parseRaw(await rawExchange(port, 'GET /api/v2/devices HTTP/9\r\n\r\n'));
      expect(res.status).toBe(400);
      expect(res.json).toEqual(coded(400));
    });

    it('an OPTIONS preflight without Origin: 400 in the catalog shape', async () => {
      const res = await fetch(`${t.http}/api/v2/devices`, {
        method: 'OPTIONS',
        headers: { 'access-control-request-method': 'POST' },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await res.json()).toEqual(coded(400));
    });

    it('bad JSON, an unknown route and an oversized body keep their coded shapes', async () => {
      const bad = await t.api('POST', '/api/v2/devices', '{"name":');
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual(coded(4001));
      const none = await t.api('GET', '/api/v2/nothing/here');
      expect(none.status).toBe(404);
      expect(none.body).toEqual(coded(404));
    });
  });

  describe('the request body cap, at its edge (item 23)', () => {
    const cap = DEFAULT_LIMITS.maxBodyBytes;
    // Whitespace pads a valid JSON body to an exact byte count.
    const bodyOf = (bytes: number): string => {
      const json = '{"limit":1}';
      return json + ' '.repeat(bytes - json.length);
    };

    it(`a body of exactly maxBodyBytes (${cap}) is read`, async () => {
      const r = await t.api('POST', '/api/v2/logs', bodyOf(cap));
      expect(r.status).toBe(200);
      expect(Array.isArray(r.body)).toBe(true);
    });

    it('one byte more is the catalog 413', async () => {
      const r = await t.api('POST', '/api/v2/logs', bodyOf(cap + 1));
      expect(r.status).toBe(413);
      expect(r.body).toEqual(coded(413));
    });
  });

  describe('JSON depth (item 10)', () => {
    const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
    const max = DEFAULT_LIMITS.maxJsonDepth;

    it('6,000 deep on the RPC bridge is a 400 json_too_deep, not a 500', async () => {
      await t.createDevice({ id: 'deep-rpc' });
      const r = await t.api('POST', '/api/v2/devices/deep-rpc/rpc/Echo', nested(6000));
      expect(r.status).toBe(400);
      expect(r.body).toEqual(coded(4005));
    });

    it('a deep acl with a new name changes nothing, not even the name', async () => {
      await t.createDevice({ id: 'deep-acl', name: 'before' });
      const body = `{"name":"after","acl":{"x":${nested(6000)}}}`;
      const r = await t.api('POST', '/api/v2/devices/deep-acl', body);
      expect(r.status).toBe(400);
      expect(r.body).toEqual(coded(4005));
      const d = await t.api<DeviceObject>('GET', '/api/v2/devices/deep-acl');
      expect(d.body.name).toBe('before');
      expect(d.body.acl).toEqual({});
    });

    it(`accepts exactly maxJsonDepth (${max}) levels and refuses one more`, async () => {
      await t.createDevice({ id: 'depth-edge' });
      // {"acl":{"x": <max-2 arrays>}} is `max` levels deep in total.
      const at = `{"acl":{"x":${nested(max - 2)}}}`;
      const ok = await t.api('POST', '/api/v2/devices/depth-edge', at);
      expect(ok.status).toBe(200);
      const over = `{"acl":{"x":${nested(max - 1)}}}`;
      const no = await t.api('POST', '/api/v2/devices/depth-edge', over);
      expect(no.status).toBe(400);
      expect(no.body).toEqual(coded(4005));
    });
  });

  describe('integer ranges (item 11)', () => {
    it.each([
      ['2^63', '9223372036854775808'],
      ['1e300', '1e300'],
      ['2^53', '9007199254740992'],
      ['a negative', '-1'],
      ['a fraction', '1.5'],
    ])('POST /logs with start = %s is a 400 naming start', async (_label, start) => {
      const r = await t.api<ErrorBody>('POST', '/api/v2/logs', `{"start":${start}}`);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe(4002);
      expect(r.body.error.message).toContain('start');
    });

    it('the largest safe integer is still a valid start', async () => {
      const r = await t.api('POST', '/api/v2/logs', `{"start":${Number.MAX_SAFE_INTEGER}}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual([]);
    });

    it('limit keeps its range', async () => {
      for (const limit of ['0', '10001', '1e300']) {
        const r = await t.api<ErrorBody>('POST', '/api/v2/logs', `{"limit":${limit}}`);
        expect(r.status, limit).toBe(400);
        expect(r.body.error.message).toContain('limit');
      }
    });
  });
});
