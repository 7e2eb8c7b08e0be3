import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  RawDevice,
  deviceUrl,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject } from '../../../src/shared/types';

describe('device authentication and sessions (PROTOCOL.md 1)', () => {
  let t: TestHub;
  let dev: DeviceObject;
  beforeAll(async () => {
    t = await startTestHub();
    dev = await t.createDevice();
  });
  afterAll(async () => {
    await t.stop();
  });

  async function connectAndCheck(
    url: string,
    opts: WebSocket.ClientOptions & { protocols?: string[] },
  ): Promise<RawDevice> {
    const d = await RawDevice.connect(url, opts);
    await d.answerGetInfo();
    await waitFor(() => t.hub.services().gateway.isOnline(dev.id));
    return d;
  }

  it('accepts the password as a Bearer header', async () => {
    const d = await connectAndCheck(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    d.close();
    await d.closed();
  });

  it('accepts the password as ?access_token=', async () => {
    const d = await connectAndCheck(deviceUrl(t, `?access_token=${dev.token}`), {});
    d.close();
    await d.closed();
  });

  it('accepts and ignores an extra Basic header, before or after the Bearer one', async () => {
    for (const order of [0, 1]) {
      const basic = 'Basic ' + Buffer.from('user:pass').toString('base64');
      const bearer = `Bearer ${dev.token}`;
      // ws passes headers through; an array value sends the header twice.
      const d = await connectAndCheck(deviceUrl(t), {
        headers: {
          authorization: order === 0 ? [basic, bearer] : [bearer, basic],
        } as unknown as Record<string, string>,
      });
      d.close();
      await d.closed();
    }
  });

  it('refuses a wrong or missing password with HTTP 401 before upgrading', async () => {
    await expect(
      RawDevice.connect(deviceUrl(t), { headers: { authorization: 'Bearer nope' } }),
    ).rejects.toThrow('HTTP 401');
    await expect(RawDevice.connect(deviceUrl(t), {})).rejects.toThrow('HTTP 401');
    await expect(RawDevice.connect(deviceUrl(t, '?access_token='), {})).rejects.toThrow('HTTP 401');
    // A master API key is not a device password.
    await expect(RawDevice.connect(deviceUrl(t, `?access_token=${t.key}`), {})).rejects.toThrow(
      'HTTP 401',
    );
  });

  it('answers the first offered subprotocol, and none when none is offered', async () => {
    const d = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
      protocols: ['dash.mongoose-os.com', 'json-rpc'],
    });
    expect(d.ws.protocol).toBe('dash.mongoose-os.com');
    d.close();
    await d.closed();
    const d2 = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    expect(d2.ws.protocol).toBe('');
    d2.close();
    await d2.closed();
  });

  it('accepts any Origin', async () => {
    const d = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
      origin: 'http://evil.example',
    });
    d.close();
    await d.closed();
  });

  it('a new login closes the older session, and the device stays online', async () => {
    const a = await connectAndCheck(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    const aClosed = a.closed();
    const b = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    const { code } = await aClosed;
    expect(code).toBe(4001);
    await b.answerGetInfo();
    await new Promise((r) => setTimeout(r, 100));
    expect(t.hub.services().gateway.isOnline(dev.id)).toBe(true);
    const g = await t.api<DeviceObject>('GET', `/api/v2/devices/${dev.id}`);
    expect(g.body.online).toBe(true);
    // Calls now reach the new socket.
    const pending = t.api('POST', `/api/v2/devices/${dev.id}/rpc/Echo`, { x: 1 });
    const call = await b.call('Echo');
    b.reply(call, { echoed: 1 });
    expect((await pending).body).toEqual({ echoed: 1 });
    b.close();
    await b.closed();
  });

  it('closes the session of a deleted device', async () => {
    const other = await t.createDevice();
    const d = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${other.token}` },
    });
    await d.answerGetInfo();
    const closed = d.closed();
    expect((await t.api('DELETE', `/api/v2/devices/${other.id}`)).body).toBe(true);
    await closed;
    await expect(
      RawDevice.connect(deviceUrl(t), { headers: { authorization: `Bearer ${other.token}` } }),
    ).rejects.toThrow('HTTP 401');
  });
});

describe('liveness (PROTOCOL.md 1)', () => {
  it('drops a peer that stops answering pings after the missed-pong limit, keeps one that answers', async () => {
    const t = await startTestHub({ timings: { pingIntervalMs: 100, maxMissedPongs: 3 } });
    try {
      const silent = await t.createDevice();
      const lively = await t.createDevice();
      const a = await RawDevice.connect(deviceUrl(t), {
        headers: { authorization: `Bearer ${silent.token}` },
        autoPong: false,
      });
      const b = await RawDevice.connect(deviceUrl(t), {
        headers: { authorization: `Bearer ${lively.token}` },
      });
      await a.answerGetInfo();
      await b.answerGetInfo();
      const started = Date.now();
      await a.closed();
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(150);
      expect(took).toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 400));
      expect(t.hub.services().gateway.isOnline(lively.id)).toBe(true);
      expect(t.hub.services().gateway.isOnline(silent.id)).toBe(false);
      b.close();
    } finally {
      await t.stop();
    }
  });
});
