/**
 * Every OTA fault of the simulated devices through the job runner (issue 8, PROTOCOL.md 6): an
 * error reply at write N fails the job with the device's message (Arduino gets OTA.End after
 * it), a drop mid-transfer fails it as device_offline and a clean retry starts over, a rollback
 * is `rolled_back`, a device that never returns fails after the reboot window.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../../src/shared/types';
import { openNotify, waitFor } from '../../support/hub-harness';
import { fwIdFor, imageFor, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

const callsOf = (events: Notification[], method: string): Notification[] =>
  events.filter((n) => n.name === `rpc.in.${method}`);

describe('OTA faults, both families', () => {
  for (const family of ['arduino', 'mos'] as const) {
    it(`${family}: an error reply at write 3 fails the job with the device's message`, async () => {
      rig = await otaRig();
      const dev = await rig.addDevice('f1', family, { faults: { otaFailAtWrite: 3 } });
      const notify = await openNotify(rig.t);
      const res = await rig.upload('f1', imageFor(family, 1), '', 'fw.zip');
      expect(res.status).toBe(200);
      expect(res.body.state).toBe('failed');
      expect(res.body.error?.code).toBe('device_error');
      expect(res.body.error?.message).toContain('flash write failed at write 3');
      expect(res.body.bytes).toBe(2 * 2048);
      // The Arduino library keeps an interrupted update open until OTA.End.
      expect(callsOf(notify.events, 'OTA.End').length).toBe(family === 'arduino' ? 1 : 0);
      notify.ws.close();

      dev.setFaults({});
      const retry = await rig.send('f1', res.body.firmware);
      expect(retry.body).toMatchObject({ state: 'done', to_fw: fwIdFor(family, 1) });
    });

    it(`${family}: a drop mid-transfer fails as device_offline; a clean retry starts over`, async () => {
      rig = await otaRig();
      const dev = await rig.addDevice('f2', family, { faults: { otaDropAtWrite: 2 } });
      const res = await rig.upload('f2', imageFor(family, 2), '', 'fw.zip');
      expect(res.body.state).toBe('failed');
      expect(res.body.error?.code).toBe('device_offline');
      dev.setFaults({});
      await waitFor(() => dev.ready, 5000, 'reconnect');
      await waitFor(
        async () =>
          (await rig!.t.api<{ online: boolean }>('GET', '/api/v2/devices/f2')).body.online,
        5000,
        'online',
      );
      const retry = await rig.send('f2', res.body.firmware);
      expect(retry.body).toMatchObject({
        state: 'done',
        to_fw: fwIdFor(family, 2),
        bytes: res.body.total,
      });
    });

    it(`${family}: a rollback ends rolled_back`, async () => {
      rig = await otaRig();
      await rig.addDevice('f3', family, { faults: { otaRollback: true } });
      const before = (await rig.info('f3'))['fw_id'];
      const res = await rig.upload('f3', imageFor(family, 3), '', 'fw.zip');
      expect(res.body).toMatchObject({ state: 'rolled_back', from_fw: before, to_fw: before });
      expect(res.body.error?.code).toBe('ota_rolled_back');
    });

    it(`${family}: a device that never returns fails after the reboot window`, async () => {
      rig = await otaRig({ ota: { rebootWindowMs: 400 } });
      await rig.addDevice('f4', family, { faults: { otaNeverReturn: true } });
      const started = Date.now();
      const res = await rig.upload('f4', imageFor(family, 4), '', 'fw.zip');
      expect(res.body.state).toBe('failed');
      expect(res.body.error?.code).toBe('ota_timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    });
  }
});
