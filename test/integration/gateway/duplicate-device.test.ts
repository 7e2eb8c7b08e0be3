import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  RawDevice,
  deviceUrl,
  openNotify,
  sleep,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject, LogEntry } from '../../../src/shared/types';

/** The refusal of an upgrade: status, Retry-After and body. */
function refusal(
  url: string,
  token: string,
): Promise<{ status: number; retryAfter: string | undefined; body: string } | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body });
        ws.terminate();
      });
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

/**
 * Issue 7 item 18: two devices with one password must not kick each other out in a loop. The
 * first replacement is allowed (PROTOCOL.md 1); a kick-back against a live replacement is
 * refused with 429 and a doubling Retry-After, logged and stored as a `duplicate` notification.
 */
describe('two devices with one password (duplicate damping)', () => {
  let t: TestHub;
  let dev: DeviceObject;
  beforeAll(async () => {
    t = await startTestHub({
      timings: { duplicateHoldOffMs: 1000, duplicateHoldOffMaxMs: 4000, duplicateProbeMs: 300 },
    });
    dev = await t.createDevice();
  });
  afterAll(async () => {
    await t.stop();
  });

  const connect = (opts: WebSocket.ClientOptions = {}): Promise<RawDevice> =>
    RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
      ...opts,
    });

  it('refuses the kick-back with a growing hold-off while the other device is alive', async () => {
    const stream = await openNotify(t);
    const a = await connect();
    await a.answerGetInfo();
    const aClosed = a.closed();
    // B logs in with the same password: A is replaced, as the protocol says.
    const b = await connect();
    await b.answerGetInfo();
    expect((await aClosed).code).toBe(4001);
    const bPort = (b.ws as unknown as { _socket: { localPort: number } })._socket.localPort;

    // A comes back at once: B is a fresh replacement and answers its ping, so A is refused.
    const r1 = await refusal(deviceUrl(t), dev.token);
    expect(r1).toMatchObject({ status: 429, retryAfter: '1' });
    if (r1 === 'open') throw new Error('unreachable');
    expect(JSON.parse(r1.body)).toMatchObject({ error: { code: 4294 } });
    const r2 = await refusal(deviceUrl(t), dev.token);
    expect(r2).toMatchObject({ status: 429, retryAfter: '2' });
    const r3 = await refusal(deviceUrl(t), dev.token);
    const r4 = await refusal(deviceUrl(t), dev.token);
    expect(r3).toMatchObject({ retryAfter: '4' });
    expect(r4).toMatchObject({ retryAfter: '4' }); // the cap
    // B was never kicked.
    expect(b.ws.readyState).toBe(b.ws.OPEN);
    expect(t.hub.services().gateway.stats.disconnects.get('duplicate_refused')).toBe(4);

    // A `duplicate` notification with both addresses, live and stored.
    const n = await stream.next((x) => x.name === 'duplicate');
    expect(n.id).toBe(dev.id);
    expect(n.data).toMatchObject({
      old: `127.0.0.1:${bPort}`,
      new: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    const logs = await t.api<LogEntry[]>('POST', '/api/v2/logs', { start: 0, name: 'duplicate' });
    expect(logs.status).toBe(200);
    expect(logs.body.filter((e) => e.name === 'duplicate')).toHaveLength(4);
    stream.ws.close();

    // B goes away for real: the device reconnects at once, with no hold-off.
    b.close();
    await b.closed();
    await waitFor(() => !t.hub.services().gateway.isOnline(dev.id));
    const c = await connect();
    await c.answerGetInfo();
    c.close();
    await c.closed();
  });

  it('lets the newcomer in when the old session is half-open (does not answer the ping)', async () => {
    const a = await connect();
    await a.answerGetInfo();
    // B replaces A, and then goes silent (a rebooted device's old socket looks like this).
    const b = await connect({ autoPong: false });
    await b.answerGetInfo();
    // A newcomer while B is a fresh replacement: B is probed, does not answer, newcomer wins.
    const started = performance.now();
    const bClosed = b.closed();
    const c = await connect();
    expect(performance.now() - started).toBeGreaterThanOrEqual(250); // waited for the probe
    expect((await bClosed).code).toBe(4001);
    await c.answerGetInfo();
    await sleep(50);
    expect(t.hub.services().gateway.isOnline(dev.id)).toBe(true);
    c.close();
    await c.closed();
  });

  it('a device that reconnects after its old socket closed is never held off', async () => {
    for (let i = 0; i < 5; i++) {
      const d = await connect();
      await d.answerGetInfo();
      d.close();
      await d.closed();
      await waitFor(() => !t.hub.services().gateway.isOnline(dev.id));
    }
  });
});
