/**
 * `fleetbench flash --provision mos --hub URL --api-key KEY`: the CLI (no hub of its own) flashes
 * the board, registers a device in a real hub over REST, writes its config over serial, and waits
 * until the device is online in that hub.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimDevice } from '../../../../src/main/sim/sim-device';
import { runCli } from '../../../support/cli-runner';
import { firmwareLike, startSim, type SimRig } from '../../../support/esp32-sim-harness';
import { startTestHub, type TestHub } from '../../../support/hub-harness';
import { MosUartPeer } from '../../../support/mos-uart-peer';

let hub: TestHub;
let rig: SimRig;
let dir: string;
beforeAll(async () => {
  hub = await startTestHub();
  rig = await startSim();
  dir = mkdtempSync(join(tmpdir(), 'fb-cli-prov-'));
});
afterAll(async () => {
  await rig.close();
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('fleetbench flash --provision', () => {
  it('flashes, registers the device in the hub, configures it over serial, waits until online', async () => {
    let peer: MosUartPeer | null = null;
    let device: SimDevice | null = null;
    // The MD5 check is the flasher's last command: then the board "reboots" into Mongoose OS.
    rig.sim.on('command', (name: string) => {
      if (name !== 'SPI_FLASH_MD5' || peer) return;
      setTimeout(() => {
        void (async () => {
          await rig.sim.stop();
          peer = await MosUartPeer.start({ path: rig.pair.a });
        })();
      }, 100);
    });
    const timer = setInterval(() => {
      const dash = peer?.saved['dash'] as { token?: string; server?: string } | undefined;
      if (!device && peer && peer.rebootCount > 0 && dash?.token && dash.server) {
        device = new SimDevice({ url: dash.server, password: dash.token, reconnect: false });
        device.start();
      }
    }, 20);
    try {
      const app = join(dir, 'app.bin');
      writeFileSync(app, firmwareLike(32 * 1024));
      const r = await runCli(
        [
          'flash',
          '--port',
          rig.host,
          '--provision',
          'mos',
          '--name',
          'cli-board',
          '--wifi-ssid',
          'Lab',
          '--online-timeout',
          '15',
          '--hub',
          hub.http,
          '--api-key',
          hub.key,
          `${app}@0x10000`,
        ],
        { FLEETBENCH_FROM_SOURCE: '1', FLEETBENCH_WIFI_PASS: 'password1' },
        40_000,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Provisioning: writing configuration/);
      const id = /Device id: (\S+)\./.exec(r.stderr)?.[1];
      expect(id).toBeDefined();
      const dev = await hub.api<{ name: string; online: boolean }>('GET', `/api/v2/devices/${id}`);
      expect(dev.body).toMatchObject({ name: 'cli-board', online: true });
      expect((peer as MosUartPeer | null)?.saved['wifi']).toMatchObject({
        sta: { ssid: 'Lab', pass: 'password1' },
      });
      expect(r.stderr + r.stdout).not.toContain('password1');
    } finally {
      clearInterval(timer);
      await (device as SimDevice | null)?.stop();
      await (peer as MosUartPeer | null)?.stop();
    }
  }, 60_000);
});
