/**
 * The Sys.GetInfo of the session an update runs in may be stored late: after a hub restart the
 * rollout starts a device's transfer as soon as it is online, while that session's step 3 still
 * commits. That old info (the old fw_id) must not count as the device coming back after OTA.End,
 * or a good update reads as a rollback (a flake of rollout-fleet's restart test).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/hub-harness';
import { appFwId, appImage, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

describe('OTA come-back', () => {
  it('an old Sys.GetInfo stored after OTA.End, before the reboot, is not the come-back', async () => {
    rig = await otaRig();
    // A slow reboot leaves time for the late store between OTA.End and the disconnect.
    await rig.addDevice('late', 'arduino', { otaRebootDelayMs: 400 });
    const old = await rig.info('late');
    const fw = await rig.addFirmware(appImage(5, 6000), 'app.bin');
    const ota = rig.t.hub.services().ota;
    const devices = rig.t.hub.services().devices;
    const job = ota.start({ device: 'late', firmware: fw.id });
    await waitFor(() => ota.get(job.id).state === 'rebooting', 5000, 'rebooting');
    // The step-3 store of the session the update ran in, committing late: the old identity.
    await devices.replaceReported('late', 'ota', old);
    await waitFor(() => ota.get(job.id).ended !== null, 10_000, 'job end');
    expect(ota.get(job.id)).toMatchObject({
      state: 'done',
      from_fw: old['fw_id'],
      to_fw: appFwId(5),
    });
  });
});
