import { afterEach, describe, expect, it } from 'vitest';
import {
  runProvisioning,
  type HubProvisioning,
} from '../../../../src/main/flasher/provision/provision-flow';
import { FlashError, type FlashState } from '../../../../src/shared/flash-state';
import { ImprovPeer } from '../../../support/improv-peer';
import { MosUartPeer } from '../../../support/mos-uart-peer';
import { openPtyPair } from '../../../support/pty-pair';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

const deviceUrl = 'ws://192.168.1.10:8009/api/v2/rpc';

/**
 * The hub side is another engineer's code; here it is a small in-test registry whose "online"
 * check is what the real gateway would observe: the simulated device now holds the minted
 * password and has rebooted into it.
 */
function hubFor(
  isOnline: (token: string) => boolean,
): HubProvisioning & { created: { id: string; token: string }[] } {
  const created: { id: string; token: string }[] = [];
  return {
    created,
    deviceUrl,
    async createDevice(name?: string) {
      const d = {
        id: `dev-${created.length + 1}${name ? `-${name}` : ''}`,
        token: `tok-${Math.random().toString(36).slice(2)}`,
      };
      created.push(d);
      return d;
    },
    async waitOnline(id: string, timeoutMs: number) {
      const d = created.find((c) => c.id === id);
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (d && isOnline(d.token)) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    },
  };
}

describe('runProvisioning', () => {
  it('mos: mints a device, writes its password and URL, waits until it is online', async () => {
    const pair = await openPtyPair();
    cleanups.push(() => pair.close());
    const peer = await MosUartPeer.start({ path: pair.a });
    cleanups.push(() => peer.stop());
    const hub = hubFor(
      (token) =>
        peer.rebootCount > 0 &&
        (peer.running.dash as { token?: string } | undefined)?.token === token,
    );
    const states: FlashState[] = [];
    const r = await runProvisioning(
      {
        path: pair.b,
        family: 'mos',
        name: 'bench',
        wifi: { ssid: 'Lab', pass: 'password1' },
        onlineTimeoutMs: 5000,
      },
      hub,
      (s) => states.push(s),
    );
    expect(r.deviceId).toBe('dev-1-bench');
    expect(r.online).toBe(true);
    expect(peer.saved.dash).toEqual({
      enable: true,
      token: hub.created[0]!.token,
      server: deviceUrl,
    });
    expect(states[0]).toEqual({ state: 'provisioning', step: 'creating the device in the hub' });
    expect(states.at(-1)).toEqual({ state: 'waiting_online', deviceId: 'dev-1-bench' });
  });

  it('template: fills {id} {password} {server} from the minted device', async () => {
    const pair = await openPtyPair();
    cleanups.push(() => pair.close());
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path: pair.a, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    cleanups.push(() => new Promise<void>((res) => port.close(() => res())));
    let got = '';
    port.on('data', (d: Buffer) => (got += d.toString()));
    const hub = hubFor((token) => got.includes(token));
    const r = await runProvisioning(
      {
        path: pair.b,
        family: 'template',
        template: 'cfg {id} {password} {server}\\n',
        onlineTimeoutMs: 3000,
      },
      hub,
    );
    const d = hub.created[0]!;
    expect(got).toBe(`cfg ${d.id} ${d.token} ${deviceUrl}\n`);
    expect(r).toMatchObject({ deviceId: d.id, online: true, template: { linesSent: 1 } });
  });

  it('improv: only Wi-Fi, no device minted', async () => {
    const pair = await openPtyPair();
    cleanups.push(() => pair.close());
    const peer = await ImprovPeer.start({ path: pair.a });
    cleanups.push(() => peer.stop());
    const hub = hubFor(() => false);
    const r = await runProvisioning(
      { path: pair.b, family: 'improv', wifi: { ssid: 'Lab', pass: 'password1' } },
      hub,
    );
    expect(r.improv?.url).toBe('http://192.168.1.77/');
    expect(hub.created).toEqual([]);
  });

  it('fails clearly when the device never comes online, and on hub or option errors', async () => {
    const pair = await openPtyPair();
    cleanups.push(() => pair.close());
    const peer = await MosUartPeer.start({ path: pair.a });
    cleanups.push(() => peer.stop());
    const hub = hubFor(() => false);
    const p = runProvisioning({ path: pair.b, family: 'mos', onlineTimeoutMs: 300 }, hub);
    await expect(p).rejects.toBeInstanceOf(FlashError);
    // A timeout is a timeout (issue 7 item 7), coded as one.
    await expect(p).rejects.toMatchObject({
      code: 'timeout',
      message: expect.stringMatching(/did not come online within/),
    });

    const broken: HubProvisioning = {
      ...hub,
      createDevice: () => Promise.reject(new Error('db locked')),
    };
    await expect(runProvisioning({ path: pair.b, family: 'mos' }, broken)).rejects.toMatchObject({
      code: 'provision_failed',
      message: expect.stringMatching(/could not create the device: db locked/),
    });
    await expect(runProvisioning({ path: pair.b, family: 'improv' }, hub)).rejects.toMatchObject({
      message: expect.stringMatching(/needs wifi/),
    });
    await expect(runProvisioning({ path: pair.b, family: 'zigbee' }, hub)).rejects.toMatchObject({
      message: expect.stringMatching(/invalid provisioning options/),
    });
  });
});
