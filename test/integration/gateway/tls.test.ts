import { readFileSync } from 'node:fs';
import https from 'node:https';
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
