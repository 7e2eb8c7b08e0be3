/**
 * OTA against the per-device rate limit (issue 7 item 17): a fast OTA makes an Arduino device
 * send a reply and a `State.Set` progress notification per 2048-byte write, far above 100
 * frames/s. Replies to our calls always pass; the notifications they provoke must pass too (one
 * per reply), or they would be dropped and the device disconnected as an abuser mid-update.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openNotify } from '../../support/hub-harness';
import { appFwId, appImage, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

describe('OTA and the per-device rate limit', () => {
  it('a 1 MB OTA to an Arduino device at full speed: no drops, no disconnect, done', async () => {
    // A short abuse window so a streak of dropped State.Set would disconnect within the transfer.
    rig = await otaRig({ timings: { rateLimitDisconnectMs: 150 } });
    const dev = await rig.addDevice('fast', 'arduino');
    const notify = await openNotify(rig.t);
    const image = appImage(7, 1024 * 1024);
    const res = await rig.upload('fast', image, '', 'app.bin');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ state: 'done', to_fw: appFwId(7), bytes: image.length });
    const writes = Math.ceil(image.length / 2048);
    const progress = notify.events.filter((n) => n.name === 'rpc.out.State.Set' && n.id === 'fast');
    // State.Set {"percent":0} at OTA.Begin, one per write, {"percent":null} at OTA.End.
    expect(progress.length).toBe(writes + 2);
    const stats = (await rig.t.api<{ frames: Record<string, unknown> }>('GET', '/api/v2/hub')).body;
    expect(JSON.stringify(stats.frames)).not.toMatch(/"rate_limited":[1-9]/);
    expect(dev.counters.sessions).toBe(2); // the reboot after OTA.End only
    notify.ws.close();
  }, 60_000);
});
