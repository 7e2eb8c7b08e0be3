import { describe, expect, it } from 'vitest';
import { SerialLink } from '../../../../src/main/flasher/monitor/serial-link';
import {
  MosRpcError,
  MosUartRpc,
  provisionMos,
} from '../../../../src/main/flasher/provision/mos-provision';
import type { FlashState } from '../../../../src/shared/flash-state';
import { MosUartPeer, type MosPeerOptions } from '../../../support/mos-uart-peer';
import { ptyPairFor, useCleanups } from '../../../support/cleanups';
import { flashErrorOf, openLinkFor, peerOnPty } from '../../../support/provision-harness';

const cleanups = useCleanups();

const setup = (peerOpts: Omit<MosPeerOptions, 'path'> = {}) =>
  peerOnPty(cleanups, (path) => MosUartPeer.start({ path, ...peerOpts }));

const dash = { token: 'tok-SECRET-123', server: 'ws://192.168.1.10:8009/api/v2/rpc' };
const wifi = { ssid: 'Workshop', pass: 'wifi-SECRET-pw' };

describe('provisionMos against the Mongoose OS peer', () => {
  it('sets wifi and dash, saves with reboot, and tolerates noise and corrupt frames', async () => {
    const { pair, peer } = await setup({ noiseBeforeReply: true, corruptFrameBeforeReply: true });
    const states: FlashState[] = [];
    const result = await provisionMos({ path: pair.b, baud: 115200, wifi, dash }, (s) =>
      states.push(s),
    );

    expect(result).toEqual({
      device: {
        id: 'esp32_5A3B1C',
        app: 'fleetbench-sim',
        fw_version: '1.0.0',
        arch: 'esp32',
        mac: '240AC4000001',
      },
      rebooted: true,
    });
    expect(peer.calls.map((c) => c.method)).toEqual(['Sys.GetInfo', 'Config.Set', 'Config.Save']);
    expect(peer.calls[1]?.params).toEqual({
      config: {
        dash: { enable: true, token: dash.token, server: dash.server },
        wifi: { sta: { enable: true, ssid: wifi.ssid, pass: wifi.pass } },
      },
    });
    expect(peer.calls[2]?.params).toEqual({ reboot: true });
    expect(peer.saved.dash).toEqual({ enable: true, token: dash.token, server: dash.server });
    expect(peer.saved.wifi).toEqual({
      sta: { enable: true, ssid: 'Workshop', pass: 'wifi-SECRET-pw' },
      ap: { enable: true },
    });
    expect(peer.rebootCount).toBe(1);
    expect(peer.badFrames).toBe(0);

    expect(states.every((s) => s.state === 'provisioning')).toBe(true);
    const steps = states.map((s) => (s.state === 'provisioning' ? s.step : ''));
    expect(steps).toEqual([
      `opening ${pair.b}`,
      'connecting to Mongoose OS RPC',
      'reading device info',
      'writing configuration',
      'saving configuration and rebooting',
      'waiting for reboot',
    ]);
    expect(JSON.stringify(states)).not.toMatch(/SECRET/);

    // The port was released: it can be opened again right away.
    const again = await SerialLink.open({ path: pair.b, baud: 115200 });
    await again.close();
  });

  it('keeps wifi untouched when only dash is given', async () => {
    const { pair, peer } = await setup();
    await provisionMos({ path: pair.b, dash, rebootWaitMs: 0 });
    expect(peer.saved.wifi).toEqual({
      sta: { enable: false, ssid: '', pass: '' },
      ap: { enable: true },
    });
    expect(peer.saved.dash).toMatchObject({ enable: true, token: dash.token });
  });

  it('retries the handshake while the device is still booting', async () => {
    const { pair, peer } = await setup({ bootDelayMs: 700 });
    const t0 = Date.now();
    await provisionMos({ path: pair.b, dash, rebootWaitMs: 0 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    expect(peer.handshakes).toBeGreaterThanOrEqual(1);
    expect(peer.saved.dash).toMatchObject({ token: dash.token });
  });

  it('turns a device error into provision_failed with the device message', async () => {
    const { pair, peer } = await setup({
      failMethod: { method: 'Config.Set', code: -1, message: 'invalid config key dash' },
    });
    const e = await flashErrorOf(provisionMos({ path: pair.b, dash, wifi }));
    expect(e.code).toBe('provision_failed');
    expect(e.message).toMatch(/Config\.Set failed on the device: invalid config key dash/);
    expect(e.message).not.toMatch(/SECRET/);
    expect(peer.calls.map((c) => c.method)).not.toContain('Config.Save');
    expect(peer.rebootCount).toBe(0);
  });

  it('times out clearly when nothing speaks Mongoose OS RPC', async () => {
    const pair = await ptyPairFor(cleanups);
    const t0 = Date.now();
    const e = await flashErrorOf(provisionMos({ path: pair.b, dash, connectTimeoutMs: 600 }));
    expect(e.code).toBe('provision_failed');
    expect(e.message).toMatch(/no Mongoose OS RPC answer/);
    expect(e.hint).toMatch(/rpc-uart/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('reports the port vanishing mid-call', async () => {
    const { pair } = await setup({ silentMethods: ['Config.Set'] });
    const p = provisionMos({ path: pair.b, dash, callTimeoutMs: 20_000 }, (s) => {
      if (s.state === 'provisioning' && s.step === 'writing configuration') {
        setTimeout(() => void pair.close(), 100);
      }
    });
    const e = await flashErrorOf(p);
    expect(e.code).toBe('port_vanished');
  });

  it('rejects bad options before touching the port, and missing ports clearly', async () => {
    const { pair, peer } = await setup();
    let e = await flashErrorOf(
      provisionMos({ path: pair.b, dash: { token: 't', server: 'http://x' } }),
    );
    expect(e.code).toBe('provision_failed');
    expect(e.message).toMatch(/invalid provisioning options: \/dash\/server/);
    e = await flashErrorOf(
      provisionMos({ path: pair.b, dash, wifi: { ssid: 'x', pass: 'short' } }),
    );
    expect(e.message).toMatch(/wifi\/pass/);
    e = await flashErrorOf(provisionMos({ path: pair.b, dash, extra: 1 }));
    expect(e.code).toBe('provision_failed');
    expect(peer.calls).toEqual([]);
    e = await flashErrorOf(provisionMos({ path: `${pair.b}-gone`, dash }));
    expect(e.code).toBe('port_not_found');
    await openLinkFor(cleanups, pair.b);
    e = await flashErrorOf(provisionMos({ path: pair.b, dash }));
    expect(e.code).toBe('port_busy');
  });
});

describe('MosUartRpc', () => {
  it('calls methods and surfaces device errors as MosRpcError', async () => {
    const { pair } = await setup();
    const link = await openLinkFor(cleanups, pair.b);
    const logs: string[] = [];
    const rpc = new MosUartRpc(link, { onLog: (t) => logs.push(t) });
    cleanups.push(async () => rpc.dispose());
    const cfg = (await rpc.call('Config.Get', undefined, 3000)) as { device: { id: string } };
    expect(cfg.device.id).toBe('esp32_5A3B1C');
    await expect(rpc.call('No.Such', {}, 3000)).rejects.toBeInstanceOf(MosRpcError);
    await expect(rpc.call('No.Such', {}, 3000)).rejects.toMatchObject({ code: 404 });
    await new Promise((r) => setTimeout(r, 100));
    expect(logs.join('')).toMatch(/uptime/);
  });

  it('times out a call the device never answers', async () => {
    const { pair } = await setup({ silentMethods: ['Sys.GetInfo'] });
    const link = await openLinkFor(cleanups, pair.b);
    const rpc = new MosUartRpc(link);
    cleanups.push(async () => rpc.dispose());
    const e = await flashErrorOf(rpc.call('Sys.GetInfo', undefined, 400));
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/no reply to Sys\.GetInfo/);
  });
});
