/**
 * Limits of the RPC bridge (issue 7 item 15): the call frame must fit the device's 8 KB message
 * limit (PROTOCOL.md intro), `?timeout=` has a ceiling (`timings.maxRpcTimeoutMs`), and a device
 * can have only `limits.maxPendingCallsPerDevice` calls waiting. Each edge is tested on both
 * sides, against a hand-driven device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawDevice,
  connectOnline,
  sleep,
  startTestHub,
  type ErrorBody,
  type TestHub,
} from '../../support/hub-harness';
import { DEFAULT_LIMITS, DEFAULT_TIMINGS } from '../../../src/main/config';
import type { DeviceObject } from '../../../src/shared/types';

const MAX_PENDING = 3;

describe('RPC bridge limits (issue 7 item 15)', () => {
  let t: TestHub;
  let dev: DeviceObject;
  let raw: RawDevice;
  let calls = 0;
  const method = (base: string): string => `${base}${++calls}`;
  const rpcPath = (m: string, query = ''): string => `/api/v2/devices/${dev.id}/rpc/${m}${query}`;

  beforeAll(async () => {
    t = await startTestHub({ limits: { maxPendingCallsPerDevice: MAX_PENDING } });
    dev = await t.createDevice({ id: 'limits-dev' });
    raw = await connectOnline(t, dev);
  });
  afterAll(async () => {
    raw.close();
    await t.stop();
  });

  describe('params must fit one device frame (8 KB)', () => {
    const limit = DEFAULT_LIMITS.maxMessageBytes;
    /** Params whose call frame, with the longest id a session can give, is `bytes` long. */
    function paramsForFrame(m: string, bytes: number): { s: string } {
      const frameOf = (s: string): string =>
        JSON.stringify({
          id: Number.MAX_SAFE_INTEGER,
          method: m,
          params: { s },
          src: `$sys/${dev.id}`,
        });
      const base = Buffer.byteLength(frameOf(''));
      return { s: 'x'.repeat(bytes - base) };
    }

    it('a frame of exactly the limit is sent', async () => {
      const m = method('Fits');
      const pending = t.api('POST', rpcPath(m), paramsForFrame(m, limit));
      const call = await raw.call(m);
      raw.reply(call, 'ok');
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.body).toBe('ok');
    });

    it('one byte more is the catalog 413, and nothing reaches the device', async () => {
      const m = method('TooBig');
      const r = await t.api<ErrorBody>('POST', rpcPath(m), paramsForFrame(m, limit + 1));
      expect(r.status).toBe(413);
      expect(r.body).toEqual({ error: { code: 413, message: expect.any(String) } });
      await sleep(100);
      expect(raw.frames.some((f) => f['method'] === m)).toBe(false);
    });
  });

  describe('?timeout= has a ceiling', () => {
    const max = DEFAULT_TIMINGS.maxRpcTimeoutMs;

    it(`${max} ms is accepted`, async () => {
      const m = method('Max');
      const pending = t.api('POST', rpcPath(m, `?timeout=${max}`), {});
      raw.reply(await raw.call(m), true);
      expect((await pending).status).toBe(200);
    });

    it.each([String(max + 1), '999999'])('timeout=%s is a 400 naming timeout', async (v) => {
      const m = method('Over');
      const r = await t.api<ErrorBody>('POST', rpcPath(m, `?timeout=${v}`), {});
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe(4002);
      expect(r.body.error.message).toContain('timeout');
    });
  });

  describe('calls waiting on one device are capped', () => {
    it(`the call past ${MAX_PENDING} waiting is a coded 429; an answer frees a place`, async () => {
      const names = Array.from({ length: MAX_PENDING }, () => method('Wait'));
      const waiting = names.map((m) => t.api('POST', rpcPath(m, '?timeout=5000'), {}));
      const frames = await Promise.all(names.map((m) => raw.call(m)));
      const extra = method('Extra');
      const refused = await t.api<ErrorBody>('POST', rpcPath(extra), {});
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error: { code: 4293, message: expect.any(String) } });
      await sleep(50);
      expect(raw.frames.some((f) => f['method'] === extra)).toBe(false);

      const first = frames[0];
      if (!first) throw new Error('no frame');
      raw.reply(first, 1);
      expect((await waiting[0])?.status).toBe(200);
      const next = method('Next');
      const allowed = t.api('POST', rpcPath(next), {});
      raw.reply(await raw.call(next), 2);
      expect((await allowed).status).toBe(200);

      frames.slice(1).forEach((f) => raw.reply(f, 0));
      await Promise.all(waiting);
    });

    it('another device has its own budget', async () => {
      const other = await t.createDevice({ id: 'limits-other' });
      const raw2 = await connectOnline(t, other);
      try {
        const names = Array.from({ length: MAX_PENDING }, () => method('Busy'));
        const waiting = names.map((m) => t.api('POST', rpcPath(m, '?timeout=5000'), {}));
        const frames = await Promise.all(names.map((m) => raw.call(m)));
        const m = method('Free');
        const pending = t.api('POST', `/api/v2/devices/${other.id}/rpc/${m}`, {});
        raw2.reply(await raw2.call(m), 'free');
        expect((await pending).status).toBe(200);
        frames.forEach((f) => raw.reply(f, 0));
        await Promise.all(waiting);
      } finally {
        raw2.close();
      }
    });
  });
});
