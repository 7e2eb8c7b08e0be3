/**
 * A rollout's job the hub stopped during (device rebooting into the new image) is verified again
 * by the next hub on the same data dir when the device reconnects (issue 8: "a restarted hub
 * re-verifies a device that was mid-update").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtaJob } from '../../../src/shared/ota';
import { startTestHub, waitFor, type TestHub } from '../../support/hub-harness';
import { appFwId, appImage, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
let second: TestHub | null = null;
const dataDir = mkdtempSync(join(tmpdir(), 'fb-ota-restart-'));
afterEach(async () => {
  await second?.stop();
  await rig?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('OTA across a restart', () => {
  it("re-verifies a rollout's job that was rebooting when the hub stopped", async () => {
    rig = await otaRig({ dataDir });
    const port = Number(new URL(rig.t.http).port);
    await rig.addDevice('rv', 'arduino', { bootTimeMs: 600 });
    const fw = await rig.addFirmware(appImage(9, 6000), 'app.bin');
    const ota = rig.t.hub.services().ota;
    const job = ota.start({ device: 'rv', firmware: fw.id, rollout: 'ro_test' });
    await waitFor(() => ota.get(job.id).state === 'rebooting', 5000, 'rebooting');
    await rig.t.hub.stop();
    second = await startTestHub({ dataDir, port, ota: { rebootWindowMs: 5000 } });
    const t = second;
    let last: OtaJob | undefined;
    await waitFor(
      async () => {
        // fetch may first reuse a kept-alive socket of the stopped hub on the same port.
        const r = await t.api<OtaJob>('GET', `/api/v2/ota/${job.id}`).catch(() => null);
        last = r?.body;
        return last?.ended != null;
      },
      10_000,
      'job verified',
    );
    expect(last).toMatchObject({ state: 'done', to_fw: appFwId(9), rollout: 'ro_test' });
  });
});
