/**
 * Session steps run through the gateway's step queue (issue 11: in a connect storm logins go
 * first). A device that never answers `Sys.GetInfo` holds its step only for `sessionStepSlotMs`:
 * the next device's steps start then, not after the 30 s call timeout. Real hub, real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawDevice, deviceUrl, startTestHub, type TestHub } from '../../support/hub-harness';

describe('session step queue', () => {
  let t: TestHub | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  it('one step at a time: a silent device holds the queue for the slot, not the call timeout', async () => {
    t = await startTestHub({
      limits: { maxSessionStepsRunning: 1, maxSessionStepsWhileLoggingIn: 1 },
      timings: { sessionStepSlotMs: 1000, loginQuietMs: 10 },
    });
    const silent = await t.createDevice({ name: 'silent' });
    const next = await t.createDevice({ name: 'next' });
    const a = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${silent.token}` },
    });
    // The silent device's steps run first: its Sys.GetInfo arrives and is never answered.
    await a.call('Sys.GetInfo');
    const t0 = Date.now();
    const b = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${next.token}` },
    });
    // Reachable from its login on, before its own steps ran.
    const online = await t.api<{ online: boolean }>('GET', `/api/v2/devices/${next.id}`);
    expect(online.body.online).toBe(true);
    const info = await b.call('Sys.GetInfo');
    const waited = Date.now() - t0;
    // Its steps waited for the silent device's slot (1 s from that step's start, a little before
    // t0), then started; not the 30 s call timeout.
    expect(waited).toBeGreaterThanOrEqual(500);
    expect(waited).toBeLessThan(8000);
    b.reply(info, { fw_version: '1.0', arch: 'esp32', app: 'demo' });
    a.close();
    b.close();
  });

  it('counts admitted logins and the devices waiting for their steps (what tells a login storm)', async () => {
    t = await startTestHub({
      limits: { maxSessionStepsRunning: 1, maxSessionStepsWhileLoggingIn: 1 },
      timings: { sessionStepSlotMs: 1000, loginQuietMs: 10 },
    });
    const gateway = t.hub.services().gateway;
    const silent = await t.createDevice({ name: 'silent' });
    const next = await t.createDevice({ name: 'next' });
    expect([gateway.logins, gateway.stepsQueued]).toEqual([0, 0]);
    // A wrong password is refused before the upgrade: not a login.
    await expect(
      RawDevice.connect(deviceUrl(t), { headers: { authorization: 'Bearer wrong' } }),
    ).rejects.toThrow();
    const a = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${silent.token}` },
    });
    await a.call('Sys.GetInfo');
    expect([gateway.logins, gateway.stepsQueued]).toEqual([1, 0]);
    const b = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${next.token}` },
    });
    // Its steps wait for the silent device's slot.
    expect([gateway.logins, gateway.stepsQueued]).toEqual([2, 1]);
    const info = await b.call('Sys.GetInfo');
    expect(gateway.stepsQueued).toBe(0);
    b.reply(info, { fw_version: '1.0', arch: 'esp32', app: 'demo' });
    a.close();
    b.close();
  });
});
