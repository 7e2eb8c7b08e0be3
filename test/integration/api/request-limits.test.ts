/**
 * Slow and unfinished requests (issue 7 item 14), with real sockets that send half a request:
 * headers and whole requests have deadlines, a body that goes silent is cut off with a coded
 * 408, and one API key can hold only `limits.maxUploadsPerKey` uploads at a time (429, 4292);
 * an OTA request holds its slot only while its body comes in, not while it waits for the job.
 * Timings are shortened through the config so the edges are reached in a second or two.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OtaJob } from '../../../src/shared/ota';
import { appImage } from '../ota/ota-rig';
import {
  RawDevice,
  deviceUrl,
  sleep,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';

const TIMINGS = {
  headersTimeoutMs: 600,
  requestTimeoutMs: 2500,
  bodyIdleTimeoutMs: 500,
};
const MAX_UPLOADS = 2;

/** A socket that has sent part of a request; `reply` resolves with all it got once it closed. */
interface HalfRequest {
  socket: net.Socket;
  reply: Promise<{ text: string; closedAfterMs: number }>;
}

function openHalf(port: number, text: string): Promise<HalfRequest> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('error', () => undefined);
    const reply = new Promise<{ text: string; closedAfterMs: number }>((done) =>
      socket.on('close', () => done({ text: out, closedAfterMs: Date.now() - started })),
    );
    socket.once('connect', () => {
      socket.write(text);
      resolve({ socket, reply });
    });
  });
}

function statusAndCode(text: string): { status: number; code: number | undefined } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const body = text.split('\r\n\r\n')[1] ?? '';
  let code: number | undefined;
  try {
    code = (JSON.parse(body) as { error?: { code?: number } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status, code };
}

const B = 'halfBoundary';

/** The head of a multipart upload that announces far more body than it will send. */
function uploadHead(key: string, path = '/api/v2/local/flash'): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
    `Content-Type: multipart/form-data; boundary=${B}\r\nContent-Length: 1000000\r\n\r\n` +
    `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n` +
    'x'.repeat(1000)
  );
}

describe('slow and unfinished requests (issue 7 item 14)', () => {
  let t: TestHub;
  let port: number;

  beforeAll(async () => {
    t = await startTestHub({
      timings: TIMINGS,
      limits: { maxUploadsPerKey: MAX_UPLOADS },
    });
    port = Number(new URL(t.http).port);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('an upload whose body stops halfway gets a coded 408 after bodyIdleTimeoutMs', async () => {
    const half = await openHalf(port, uploadHead(t.key));
    const { text, closedAfterMs } = await half.reply;
    expect(statusAndCode(text)).toEqual({ status: 408, code: 408 });
    expect(closedAfterMs).toBeGreaterThanOrEqual(TIMINGS.bodyIdleTimeoutMs - 50);
    expect(closedAfterMs).toBeLessThan(TIMINGS.bodyIdleTimeoutMs + 1500);
  });

  it('a body that trickles in forever is cut at requestTimeoutMs', async () => {
    const half = await openHalf(port, uploadHead(t.key));
    // Never silent for bodyIdleTimeoutMs, never finished.
    const drip = setInterval(() => half.socket.write('y'), 100);
    try {
      const { text, closedAfterMs } = await half.reply;
      expect(statusAndCode(text)).toEqual({ status: 408, code: 408 });
      expect(closedAfterMs).toBeGreaterThanOrEqual(TIMINGS.requestTimeoutMs - 50);
      expect(closedAfterMs).toBeLessThan(TIMINGS.requestTimeoutMs + 2000);
    } finally {
      clearInterval(drip);
    }
  });

  it('headers that never finish get a coded 408 after headersTimeoutMs', async () => {
    const half = await openHalf(port, 'GET /api/v2/devices HTTP/1.1\r\nHost: x\r\n');
    const { text, closedAfterMs } = await half.reply;
    expect(statusAndCode(text)).toEqual({ status: 408, code: 408 });
    expect(closedAfterMs).toBeLessThan(TIMINGS.headersTimeoutMs + 1500);
  });

  it('a connection that never sends a byte is closed too', async () => {
    const half = await openHalf(port, '');
    const { closedAfterMs } = await half.reply;
    expect(closedAfterMs).toBeLessThan(TIMINGS.headersTimeoutMs + 1500);
  });

  it('caps uploads in flight per key with a coded 429, and frees a slot when one ends', async () => {
    const holders = await Promise.all(
      Array.from({ length: MAX_UPLOADS }, () => openHalf(port, uploadHead(t.key))),
    );
    const drips = holders.map((h) => setInterval(() => h.socket.write('y'), 100));
    try {
      await sleep(150); // let the hub take both slots
      const refused = await t.api<{ error: { code: number } }>('POST', '/api/v2/local/flash', {});
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error: { code: 4292, message: expect.any(String) } });
      // The same on the other upload routes, for the same key.
      for (const path of ['/api/v2/local/bench', '/api/v2/local/monitor/symbols']) {
        expect((await t.api('POST', path, {})).status, path).toBe(429);
      }
      // Another key has its own slots (the upload is refused on its merits, not the limit).
      const other = await t.api<{ key: string }>('POST', '/api/v2/keys');
      const r = await t.api('POST', '/api/v2/local/flash', {}, other.body.key);
      expect(r.status).toBe(400);
      // Routes that are not uploads are not limited.
      expect((await t.api('GET', '/api/v2/devices')).status).toBe(200);
    } finally {
      drips.forEach(clearInterval);
    }
    // The holders go silent: the hub cuts them off and their slots come back.
    await Promise.all(holders.map((h) => h.reply));
    await waitFor(
      async () => (await t.api('POST', '/api/v2/local/flash', {})).status === 400,
      3000,
      'a free upload slot',
    );
  });

  it('a client that hangs up mid-upload frees its slot at once', async () => {
    const holders = await Promise.all(
      Array.from({ length: MAX_UPLOADS }, () => openHalf(port, uploadHead(t.key))),
    );
    await sleep(100);
    expect((await t.api('POST', '/api/v2/local/flash', {})).status).toBe(429);
    holders.forEach((h) => h.socket.destroy());
    await waitFor(
      async () => (await t.api('POST', '/api/v2/local/flash', {})).status === 400,
      TIMINGS.bodyIdleTimeoutMs - 100,
      'the slots of closed sockets',
    );
  });

  it('an RPC call may wait on its device longer than bodyIdleTimeoutMs', async () => {
    const dev = await t.createDevice({ id: 'slow-answer' });
    const raw = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    try {
      await raw.answerGetInfo();
      await waitFor(() => t.hub.services().gateway.isOnline(dev.id));
      const pending = t.api('POST', `/api/v2/devices/${dev.id}/rpc/Slow.Op?timeout=5000`, {
        n: 1,
      });
      const call = await raw.call('Slow.Op');
      await sleep(TIMINGS.bodyIdleTimeoutMs * 2);
      raw.reply(call, { done: true });
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ done: true });
    } finally {
      raw.close();
    }
  });

  it('OTA requests waiting for their jobs hold no slot; OTA bodies in flight still do', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(appImage(1, 4000))]), 'app.bin');
    const added = await fetch(`${t.http}/api/v2/firmware`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}` },
      body: form,
    });
    const fw = (await added.json()) as { id: string };
    // Devices that never answer the OTA calls: each job (and its request) waits.
    const ids = Array.from({ length: MAX_UPLOADS + 1 }, (_, i) => `ota-wait-${i}`);
    const raws: RawDevice[] = [];
    try {
      for (const id of ids) {
        const dev = await t.createDevice({ id });
        const raw = await RawDevice.connect(deviceUrl(t), {
          headers: { authorization: `Bearer ${dev.token}` },
        });
        raws.push(raw);
        await raw.answerGetInfo();
        await waitFor(() => t.hub.services().gateway.isOnline(id));
      }
      // One sends its image as a multipart body, the others name the library firmware.
      const upload = async (
        id: string,
      ): Promise<{ status: number; text: string; body: OtaJob }> => {
        const res = await fetch(`${t.http}/api/v2/devices/${id}/ota?force=1`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.key}` },
          body: form,
        });
        const text = await res.text();
        return { status: res.status, text, body: JSON.parse(text) as OtaJob };
      };
      const waiting = ids.map((id, i) =>
        i === 0
          ? upload(id)
          : t.api<OtaJob>('POST', `/api/v2/devices/${id}/ota?force=1`, { firmware: fw.id }),
      );
      await waitFor(
        async () => {
          const jobs = await t.api<OtaJob[]>('GET', '/api/v2/ota');
          return ids.every((id) => jobs.body.some((j) => j.device === id && j.state !== 'failed'));
        },
        3000,
        'a job for every waiting request',
      );
      // Bodies still coming in count: two half-sent OTA uploads take both slots.
      const holders = await Promise.all(
        ids
          .slice(0, MAX_UPLOADS)
          .map((id) => openHalf(port, uploadHead(t.key, `/api/v2/devices/${id}/ota`))),
      );
      await sleep(150);
      expect((await t.api('POST', '/api/v2/local/flash', {})).status).toBe(429);
      holders.forEach((h) => h.socket.destroy());
      await waitFor(
        async () => (await t.api('POST', '/api/v2/local/flash', {})).status === 400,
        TIMINGS.bodyIdleTimeoutMs - 100,
        'the slots of closed sockets',
      );
      // The devices go away: the jobs fail and the waiting requests are answered.
      raws.forEach((raw) => raw.close());
      for (const r of await Promise.all(waiting)) {
        expect(r.status, r.text).toBe(200);
        expect(r.body.state).toBe('failed');
      }
    } finally {
      raws.forEach((raw) => raw.close());
    }
  });
});
