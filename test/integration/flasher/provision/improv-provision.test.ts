import { describe, expect, it } from 'vitest';
import {
  ImprovClient,
  improvGetInfo,
  provisionImprov,
} from '../../../../src/main/flasher/provision/improv-provision';
import { encodeImprovRpc } from '../../../../src/main/flasher/provision/improv-serial';
import type { FlashState } from '../../../../src/shared/flash-state';
import { ImprovPeer, type ImprovPeerOptions } from '../../../support/improv-peer';
import { useCleanups } from '../../../support/cleanups';
import { flashErrorOf, openLinkFor, peerOnPty } from '../../../support/provision-harness';

const cleanups = useCleanups();

const setup = (peerOpts: Omit<ImprovPeerOptions, 'path'> = {}) =>
  peerOnPty(cleanups, (path) => ImprovPeer.start({ path, ...peerOpts }));

const wifi = { ssid: 'Workshop', pass: 'wifi-SECRET-pw' };

describe('provisionImprov against the Improv peer', () => {
  it('sends credentials and returns the redirect URL and device info', async () => {
    const { pair, peer } = await setup({ url: 'http://192.168.1.77/setup' });
    const states: FlashState[] = [];
    const r = await provisionImprov({ path: pair.b, baud: 115200, wifi }, (s) => states.push(s));
    expect(r).toEqual({
      url: 'http://192.168.1.77/setup',
      info: {
        firmware: 'ESPHome',
        version: '2024.11.0',
        chip: 'ESP32',
        name: 'living-room-sensor',
      },
    });
    expect(peer.received).toEqual([wifi]);
    expect(peer.state).toBe(0x04);
    const steps = states.map((s) => (s.state === 'provisioning' ? s.step : s.state));
    expect(steps).toEqual([
      `opening ${pair.b}`,
      'detecting Improv serial',
      'reading device info',
      'sending Wi-Fi settings',
      'device is connecting to Wi-Fi',
    ]);
    expect(JSON.stringify(states)).not.toMatch(/SECRET/);
  });

  it('reports "unable to connect" as provision_failed with a hint', async () => {
    const { pair, peer } = await setup();
    const e = await flashErrorOf(
      provisionImprov({ path: pair.b, wifi: { ssid: 'bad', pass: 'whatever1' } }),
    );
    expect(e.code).toBe('provision_failed');
    expect(e.message).toMatch(/could not connect to the Wi-Fi network/);
    expect(e.hint).toMatch(/SSID and password/);
    expect(peer.state).toBe(0x02);
  });

  it('ignores device packets with a bad checksum and still succeeds', async () => {
    const { pair } = await setup({ sendBadChecksumFirst: true, url: '' });
    const r = await provisionImprov({ path: pair.b, wifi });
    expect(r.url).toBeUndefined();
    expect(r.info?.firmware).toBe('ESPHome');
  });

  it('works with firmware that does not answer device info', async () => {
    const { pair } = await setup({ noInfo: true });
    const r = await provisionImprov({ path: pair.b, wifi });
    expect(r.info).toBeUndefined();
    expect(r.url).toBe('http://192.168.1.77/');
  });

  it('fails clearly when no Improv device answers', async () => {
    const { pair } = await setup({ silent: true });
    const e = await flashErrorOf(provisionImprov({ path: pair.b, wifi, detectTimeoutMs: 700 }));
    expect(e.code).toBe('provision_failed');
    expect(e.message).toMatch(/no Improv serial answer/);
    expect(e.hint).toMatch(/improv_serial/);
  });

  it('rejects invalid credentials before opening the port', async () => {
    const { pair, peer } = await setup();
    const e = await flashErrorOf(provisionImprov({ path: pair.b, wifi: { ssid: '', pass: '' } }));
    expect(e.message).toMatch(/\/wifi\/ssid/);
    const long = await flashErrorOf(
      provisionImprov({ path: pair.b, wifi: { ssid: 'é'.repeat(20), pass: '' } }),
    );
    expect(long.message).toMatch(/32 bytes/);
    expect(peer.commands).toEqual([]);
  });
});

describe('improvGetInfo and ImprovClient', () => {
  it('reads device info', async () => {
    const { pair } = await setup();
    expect(await improvGetInfo({ path: pair.b })).toEqual({
      firmware: 'ESPHome',
      version: '2024.11.0',
      chip: 'ESP32',
      name: 'living-room-sensor',
    });
  });

  it('detects an already provisioned device with its URL and reports bad checksums', async () => {
    const { pair } = await setup({
      provisioned: true,
      url: 'http://10.1.1.1/',
      sendBadChecksumFirst: true,
    });
    const link = await openLinkFor(cleanups, pair.b);
    const warnings: string[] = [];
    const logs: string[] = [];
    const client = new ImprovClient(link, {
      onWarning: (w) => warnings.push(w),
      onLog: (l) => logs.push(l),
    });
    cleanups.push(async () => client.dispose());
    expect(await client.detect(3000)).toEqual({ state: 4, url: 'http://10.1.1.1/' });
    expect(warnings.some((w) => /bad checksum/.test(w))).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(logs.some((l) => l.includes('Uptime'))).toBe(true);
  });

  it('a corrupted packet from us gets the device\'s "invalid RPC" error state', async () => {
    const { pair, peer } = await setup();
    const link = await openLinkFor(cleanups, pair.b);
    const client = new ImprovClient(link);
    cleanups.push(async () => client.dispose());
    const bad = Uint8Array.from(encodeImprovRpc(0x02));
    bad[bad.length - 2] = (bad[bad.length - 2] ?? 0) ^ 0x55;
    await link.write(bad);
    const deadline = Date.now() + 3000;
    while (client.error !== 0x01 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(client.error).toBe(0x01);
    expect(peer.badPackets).toBe(1);
    // The session is not corrupted: the next request works.
    expect((await client.detect(2000)).state).toBe(0x02);
  });
});
