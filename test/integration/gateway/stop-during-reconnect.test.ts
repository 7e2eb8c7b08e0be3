/**
 * Devices that reconnect while the hub stops must not hold the stop: `wss.close` calls back only
 * once every socket it tracks is gone, and an upgrade finishing after the sessions were closed
 * left one open, so the stop waited for that device forever (a 60 s hook timeout in CI).
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DeviceObject } from '../../../src/shared/types';
import { deviceUrl, startTestHub, type TestHub } from '../../support/hub-harness';

let t: TestHub | null = null;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await t?.stop().catch(() => undefined);
  t = null;
});

/** Keeps reconnecting `dev` as fast as it can until `until()` says stop. */
function hammer(url: string, dev: DeviceObject, until: () => boolean): void {
  const once = (): void => {
    if (until()) return;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${dev.token}` } });
    sockets.push(ws);
    ws.on('error', () => undefined);
    ws.on('unexpected-response', () => setImmediate(once));
    ws.on('close', () => setImmediate(once));
  };
  once();
}

describe('hub stop while devices reconnect', () => {
  it('finishes promptly and leaves no device socket open', async () => {
    for (let round = 0; round < 5; round++) {
      t = await startTestHub();
      const hub = t;
      const devices = await Promise.all(
        Array.from({ length: 10 }, (_, i) => hub.createDevice({ id: `r${round}-${i}` })),
      );
      let stopped = false;
      for (const dev of devices) hammer(deviceUrl(hub), dev, () => stopped);
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await hub.hub.stop();
      stopped = true;
      expect(Date.now() - started).toBeLessThan(5000);
      for (const ws of sockets.splice(0)) ws.terminate();
      t = null;
    }
  }, 60_000);
});
