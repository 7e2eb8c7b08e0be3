/**
 * Simulated devices of both firmware families updated through a real hub, the way the hub's OTA
 * code drives them (PROTOCOL.md 6): REST RPC bridge calls `OTA.Begin`, `OTA.Write {offset,data}`
 * of 2048 bytes awaiting each, `OTA.End`, then the device's reconnect and its Sys.GetInfo in
 * `shadow.state.reported.ota`. Progress of the Arduino library shows on the notify stream as
 * `rpc.out.State.Set`. Every OTA fault, for both families.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimDevice, type SimDeviceOptions } from '../../../src/main/sim/sim-device';
import { espAppImage, mosFwZip } from '../../../src/main/sim/sim-firmware-files';
import type { SimFamily } from '../../../src/main/sim/sim-ota';
import type { DeviceObject, Json } from '../../../src/shared/types';
import {
  deviceUrl,
  openNotify,
  sleep,
  startTestHub,
  waitFor,
  type ApiResult,
  type TestHub,
} from '../../support/hub-harness';

const ID = 'ota-dev';
const CHUNK = 2048;
let t: TestHub | null = null;
let dev: SimDevice | null = null;

afterEach(async () => {
  await dev?.stop();
  await t?.stop();
  dev = null;
  t = null;
});

interface Rig {
  t: TestHub;
  dev: SimDevice;
  rpc(method: string, params?: Json): Promise<ApiResult<Json>>;
  /** The device's Sys.GetInfo as the hub stored it. */
  info(): Promise<Record<string, Json>>;
  /** Waits until the hub has the device online again with this fw_id. */
  waitFwId(fwId: string, timeoutMs?: number): Promise<Record<string, Json>>;
}

async function setup(family: SimFamily, opts: Partial<SimDeviceOptions> = {}): Promise<Rig> {
  const hub = await startTestHub();
  t = hub;
  const created = await hub.createDevice({ id: ID });
  const d = new SimDevice({
    url: deviceUrl(hub),
    password: created.token,
    id: ID,
    family,
    otaRebootDelayMs: 30,
    reconnect: { initialMs: 50, maxMs: 100 },
    ...opts,
  });
  dev = d;
  d.start();
  const info = async (): Promise<Record<string, Json>> => {
    const r = await hub.api<DeviceObject>('GET', `/api/v2/devices/${ID}`);
    const reported = r.body.shadow.state.reported as Record<string, Json>;
    return (reported['ota'] ?? {}) as Record<string, Json>;
  };
  const online = async (): Promise<boolean> =>
    (await hub.api<DeviceObject>('GET', `/api/v2/devices/${ID}`)).body.online;
  // Online, and its Sys.GetInfo stored (session step 3).
  await waitFor(
    async () => d.ready && (await online()) && (await info())['fw_id'] !== undefined,
    5000,
    'device online',
  );
  return {
    t: hub,
    dev: d,
    rpc: (method, params) =>
      hub.api<Json>('POST', `/api/v2/devices/${ID}/rpc/${method}`, params ?? {}),
    info,
    async waitFwId(fwId, timeoutMs = 5000) {
      await waitFor(
        async () => d.ready && (await online()) && (await info())['fw_id'] === fwId,
        timeoutMs,
        `fw_id ${fwId}`,
      );
      return info();
    },
  };
}

/** The hub's sequence: Begin, 2048-byte writes with offsets awaiting each, End. */
async function sendImage(r: Rig, image: Buffer, commitTimeout = 0): Promise<ApiResult<Json>[]> {
  const begin = await r.rpc('OTA.Begin', { size: image.length, commit_timeout: commitTimeout });
  expect(begin.status).toBe(200);
  const replies: ApiResult<Json>[] = [];
  for (let offset = 0; offset < image.length; offset += CHUNK) {
    const data = image.subarray(offset, offset + CHUNK).toString('base64');
    const w = await r.rpc('OTA.Write', { offset, data });
    replies.push(w);
    if (w.status !== 200) return replies;
  }
  replies.push(await r.rpc('OTA.End'));
  return replies;
}

const errorMessage = (res: ApiResult<Json>): string =>
  ((res.body as { error?: { message?: string } }).error?.message ?? '') as string;

async function bootOutcome(d: SimDevice): Promise<string> {
  return new Promise((resolve) => d.once('boot', resolve));
}

const image = (family: SimFamily, n: number): Buffer =>
  family === 'mos'
    ? mosFwZip({ version: `2.0.${n}`, build_id: `build-${n}`, bodyBytes: 7000, seed: n })
    : espAppImage({ date: 'Dec  6 2026', time: `10:00:0${n}`, size: 7000, seed: n });
const fwIdOf = (family: SimFamily, n: number): string =>
  family === 'mos' ? `build-${n}` : `20261206-10000${n}`;

describe('Arduino / ESP-IDF mDash library family through a real hub', () => {
  it('appends, replies {queued}, State.Set progress on the notify stream, new build committed', async () => {
    const r = await setup('arduino');
    expect(await r.info()).toMatchObject({
      fw_version: '1.2.16-idf',
      fw_id: '20261205-120000',
      arch: 'esp32',
    });
    const notify = await openNotify(r.t);
    const img = image('arduino', 1);
    const replies = await sendImage(r, img);
    expect(replies.slice(0, -1).map((w) => w.body)).toEqual([
      { queued: 2048 },
      { queued: 2048 },
      { queued: 2048 },
      { queued: 7000 - 3 * 2048 },
    ]);
    expect(replies[replies.length - 1]?.body).toBe(true);

    const after = await r.waitFwId('20261206-100001');
    expect(after).toMatchObject({ fw_version: '1.2.16-idf', reboot_reason: 'soft reset' });
    const percents = notify.events
      .filter((n) => n.name === 'rpc.out.State.Set' && n.id === ID)
      .map((n) => (n.data as { ota: { percent: number | null } }).ota.percent);
    expect(percents).toEqual([0, 29, 58, 87, 100, null]);
    notify.ws.close();

    // No commit step: "method not found" means "committed by itself".
    for (const m of ['OTA.GetBootState', 'OTA.Commit', 'OTA.Revert']) {
      const res = await r.rpc(m);
      expect(res.status).toBe(502);
      expect(errorMessage(res)).toContain('-32601');
    }
  });

  it('refuses a second Begin; after a drop mid-transfer only OTA.End (failing validation) frees it', async () => {
    const r = await setup('arduino', { faults: { otaDropAtWrite: 2 } });
    const img = image('arduino', 2);
    const first = await sendImage(r, img);
    expect(first[first.length - 1]?.status).toBe(503); // the device went away mid-transfer
    await waitFor(() => r.dev.ready, 5000, 'reconnect');
    await waitFor(async () => (await r.rpc('Sys.GetInfo')).status === 200, 5000, 'session');

    const again = await r.rpc('OTA.Begin', { size: img.length });
    expect(again.status).toBe(502);
    expect(errorMessage(again)).toContain('OTA already in progress');
    const end = await r.rpc('OTA.End');
    expect(end.status).toBe(502);
    expect(errorMessage(end)).toContain('esp_ota_end: 5379');
    await sleep(100);
    expect(r.dev.counters.sessions).toBe(2); // a failed validation does not reboot

    r.dev.setFaults({});
    const clean = await sendImage(r, img);
    expect(clean[clean.length - 1]?.body).toBe(true);
    await r.waitFwId(fwIdOf('arduino', 2));
  });
});

describe('Mongoose OS family through a real hub', () => {
  it('honours offsets, boots uncommitted with GetBootState, Commit keeps the manifest identity', async () => {
    const r = await setup('mos');
    const img = image('mos', 3);
    const replies = await sendImage(r, img, 60);
    expect(replies.every((w) => w.status === 200 && w.body === true)).toBe(true);
    expect(await r.waitFwId('build-3')).toMatchObject({ fw_version: '2.0.3', app: 'sim-app' });
    expect((await r.rpc('OTA.GetBootState')).body).toEqual({
      active_slot: 1,
      is_committed: false,
      revert_slot: 0,
      commit_timeout: 60,
    });
    expect((await r.rpc('OTA.Commit')).body).toBe(true);
    expect((await r.rpc('OTA.GetBootState')).body).toMatchObject({ is_committed: true });
    await r.rpc('Sys.Reboot', { delay_ms: 10 });
    await sleep(100);
    expect(await r.waitFwId('build-3')).toMatchObject({ fw_version: '2.0.3' });
  });

  it('a reboot before the commit goes back to the old firmware', async () => {
    const r = await setup('mos');
    await sendImage(r, image('mos', 4), 600);
    await r.waitFwId('build-4');
    const boot = bootOutcome(r.dev);
    await r.rpc('Sys.Reboot', { delay_ms: 10 });
    expect(await boot).toBe('reverted');
    expect(await r.waitFwId('20250101-000000')).toMatchObject({ fw_version: '1.0.0' });
  });

  it('the commit timeout reverts; OTA.Revert reverts at once', async () => {
    const r = await setup('mos');
    await sendImage(r, image('mos', 5), 0.3);
    await r.waitFwId('build-5');
    await r.waitFwId('20250101-000000', 3000); // 300 ms later, uncommitted: back to the old one
    await sendImage(r, image('mos', 6), 600);
    await r.waitFwId('build-6');
    expect((await r.rpc('OTA.Revert')).body).toBe(true);
    await r.waitFwId('20250101-000000');
  });

  it('a drop mid-transfer ends the upload with the session: the retry starts with OTA.Begin', async () => {
    const r = await setup('mos', { faults: { otaDropAtWrite: 3 } });
    const img = image('mos', 7);
    const first = await sendImage(r, img);
    expect(first[first.length - 1]?.status).toBe(503);
    await waitFor(async () => (await r.rpc('Sys.GetInfo')).status === 200, 5000, 'session');
    const write = await r.rpc('OTA.Write', { offset: 4096, data: 'AAAA' });
    expect(errorMessage(write)).toContain('call OTA.Begin first');
    r.dev.setFaults({});
    await sendImage(r, img);
    await r.waitFwId('build-7');
  });
});

describe('OTA faults of both families', () => {
  for (const family of ['mos', 'arduino'] as const) {
    it(`${family}: fail at write N is an error reply with a message; the device stays up`, async () => {
      const r = await setup(family, { faults: { otaFailAtWrite: 3 } });
      const replies = await sendImage(r, image(family, 1));
      expect(replies).toHaveLength(3);
      const failed = replies[2];
      expect(failed?.status).toBe(502);
      expect(errorMessage(failed ?? ({} as ApiResult<Json>))).toContain(
        'flash write failed at write 3 (simulated fault)',
      );
      expect(r.dev.counters.sessions).toBe(1);
    });

    it(`${family}: rollback fault: back online after OTA.End with the old firmware`, async () => {
      const r = await setup(family, { faults: { otaRollback: true } });
      const before = (await r.info())['fw_id'] as string;
      const boot = bootOutcome(r.dev);
      const replies = await sendImage(r, image(family, 2));
      expect(replies[replies.length - 1]?.body).toBe(true);
      expect(await boot).toBe('reverted');
      await waitFor(() => r.dev.counters.sessions === 2 && r.dev.ready, 5000, 'reconnect');
      // The old firmware's fw_id is also what the shadow held before the update: wait for the
      // second session's Sys.GetInfo to be stored (its reboot reason) before reading it.
      await waitFor(
        async () => (await r.info())['reboot_reason'] === 'soft reset',
        5000,
        'the reverted boot stored',
      );
      expect(await r.waitFwId(before)).toMatchObject({ reboot_reason: 'soft reset' });
    });

    it(`${family}: never-return fault: offline after OTA.End and stays offline`, async () => {
      const r = await setup(family, { faults: { otaNeverReturn: true } });
      const hung = new Promise<void>((resolve) => r.dev.once('hung', resolve));
      const replies = await sendImage(r, image(family, 3));
      expect(replies[replies.length - 1]?.body).toBe(true);
      await hung;
      await sleep(400); // well past the reconnect back-off
      expect(r.dev.connected).toBe(false);
      expect(r.dev.isHung).toBe(true);
      expect((await r.rpc('Sys.GetInfo')).status).toBe(503);
      expect(r.dev.counters.attempts).toBe(1);
    });

    it(`${family}: slow writes hold every OTA.Write reply`, async () => {
      const r = await setup(family, { faults: { otaWriteDelayMs: 80 } });
      await r.rpc('OTA.Begin', { size: 3 * CHUNK });
      const t0 = performance.now();
      for (let offset = 0; offset < 3 * CHUNK; offset += CHUNK) {
        const w = await r.rpc('OTA.Write', {
          offset,
          data: Buffer.alloc(CHUNK).toString('base64'),
        });
        expect(w.status).toBe(200);
      }
      expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 80 - 5);
      const info = performance.now();
      expect((await r.rpc('Sys.GetInfo')).status).toBe(200);
      expect(performance.now() - info).toBeLessThan(80); // other calls are not slowed
    });
  }
});

describe('boot time', () => {
  it('a reboot waits bootTimeMs before it connects again', async () => {
    const r = await setup('arduino', { bootTimeMs: 300 });
    const closed = new Promise<number>((resolve) => r.dev.once('close', () => resolve(0)));
    await sendImage(r, image('arduino', 4));
    await closed;
    const t0 = performance.now();
    await new Promise<void>((resolve) => r.dev.once('open', resolve));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(280);
    await r.waitFwId(fwIdOf('arduino', 4));
  });
});
