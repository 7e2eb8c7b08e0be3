/**
 * OTA from the device page end to end: a real hub on port 0 serving a fresh build of
 * src/renderer, simulated devices of both firmware families (src/main/sim/) and headless Chromium.
 * An Arduino-library device is updated from a library firmware with the bar followed live to done
 * and the running firmware matched afterwards; a Mongoose OS device of another platform is refused
 * (409 shown under the form with Force), forced, then committed with the Commit button.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import { SimDevice, type SimDeviceOptions } from '../../src/main/sim/sim-device';
import { espAppImage, mosFwZip } from '../../src/main/sim/sim-firmware-files';
import type { FirmwareObject } from '../../src/shared/firmware';
import type { DeviceObject } from '../../src/shared/types';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall, uploadFirmware } from '../support/e2e-page';

if (!haveChromium) console.warn(`OTA e2e skipped: ${CHROMIUM} is missing`);

describe.skipIf(!haveChromium)(
  'device page OTA e2e (Chromium, real hub, simulated devices)',
  () => {
    let tmp: string;
    let shots: string;
    let hub: Hub;
    let http: string;
    let dashboard: string;
    let key: string;
    let browser: Browser;
    let page: Page;
    const sims: SimDevice[] = [];
    const pageErrors: string[] = [];

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
      (await restCall<T>(http, key, method, path, body)).body;
    const addFirmware = (file: Buffer, name: string): Promise<FirmwareObject> =>
      uploadFirmware(http, key, file, name);

    async function addSim(id: string, opts: Partial<SimDeviceOptions>): Promise<SimDevice> {
      const created = await api<DeviceObject>('POST', '/devices', { id });
      const d = new SimDevice({
        url: `${http.replace(/^http/, 'ws')}/api/v2/rpc`,
        password: created.token,
        id,
        otaRebootDelayMs: 200,
        reconnect: { initialMs: 50, maxMs: 200 },
        ...opts,
      });
      sims.push(d);
      d.start();
      for (let i = 0; i < 100; i++) {
        const dev = await api<DeviceObject>('GET', `/devices/${id}`);
        const ota = dev.shadow.state.reported['ota'] as { fw_id?: string } | undefined;
        if (dev.online && ota?.fw_id) return d;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${id} did not come online`);
    }

    /** Records every state the job card shows (the bar must move on the page itself). */
    async function recordStates(): Promise<void> {
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { seen: string[] }).seen = seen;
        const record = (): void => {
          const el = document.querySelector('[data-testid=ota-job]');
          const v = el?.getAttribute('data-state');
          if (v && seen[seen.length - 1] !== v) seen.push(v);
        };
        new MutationObserver(record).observe(document.body, {
          subtree: true,
          childList: true,
          attributes: true,
        });
      });
    }
    const seenStates = (): Promise<string[]> =>
      page.evaluate(() => (window as unknown as { seen: string[] }).seen);

    beforeAll(async () => {
      ({ tmp, shots } = e2eDirs('fb-e2e-ota-'));
      ({ hub, http, dashboard, key } = await startE2eHub(tmp));
      ({ browser, page } = await openE2ePage(
        { viewport: { width: 1280, height: 1000 }, defaultTimeoutMs: 8000 },
        pageErrors,
      ));
    });

    afterAll(async () => {
      await Promise.all(sims.map((s) => s.stop()));
      await closeE2e({ browser, hub, tmp });
    });

    it('updates an Arduino-library device from the library, following the bar to done', async () => {
      // Slow writes: the transfer takes about a second, so "sending" is seen on the page.
      await addSim('bench-ard', { family: 'arduino', faults: { otaWriteDelayMs: 40 } });
      const image = espAppImage({ date: 'Dec  6 2026', time: '10:00:01', size: 48_000, seed: 3 });
      const fw = await addFirmware(image, 'blinky.bin');

      await page.goto(keyLink(dashboard, key));
      await page.goto(`${dashboard}#/devices/bench-ard`);
      await page.getByTestId('ota-panel').waitFor();
      expect(await page.getByTestId('ota-fw-id').textContent()).toBe('20261205-120000');
      await page.getByTestId('ota-firmware').selectOption(fw.id);
      await recordStates();
      await page.getByTestId('ota-start').click();
      await page.locator('[data-testid=ota-job][data-state=sending]').waitFor();
      await page.screenshot({ path: join(shots, 'ota-sending.png') });
      await page.locator('[data-testid=ota-job][data-state=done]').waitFor({ timeout: 20_000 });
      const seen = await seenStates();
      expect(seen).toContain('sending');
      expect(seen[seen.length - 1]).toBe('done');
      // The device reports the new build's time; the library learned it: "Runs" names the firmware.
      await page.locator('[data-testid=ota-fw-id]', { hasText: '20261206-100001' }).waitFor();
      await page.locator(`[data-testid=ota-running] [data-firmware="${fw.id}"]`).waitFor();
      expect(await page.getByTestId('ota-uncommitted').count()).toBe(0);
      await page.screenshot({ path: join(shots, 'ota-done.png') });
    });

    it('a platform mismatch is shown under the form with Force; forced, then Commit keeps it', async () => {
      await addSim('bench-mos', { family: 'mos', arch: 'esp8266' });
      const zip = mosFwZip({ version: '2.0.7', build_id: 'e2e-mos-7', bodyBytes: 20_000, seed: 7 });
      const fw = await addFirmware(zip, 'mos-2.0.7.zip');

      await page.goto(`${dashboard}#/devices/bench-mos`);
      await page.getByTestId('ota-panel').waitFor();
      await page.getByTestId('ota-firmware').selectOption(fw.id);
      await page.getByTestId('ota-start').click();
      const refusal = page.getByTestId('ota-start-error');
      await refusal.waitFor();
      expect(await refusal.getAttribute('data-code')).toBe('4096');
      expect(await refusal.textContent()).toMatch(/esp32/);
      await page.screenshot({ path: join(shots, 'ota-mismatch.png') });

      await page.getByTestId('ota-force').click();
      await page.locator('[data-testid=ota-job][data-state=done]').waitFor({ timeout: 20_000 });
      // Mongoose OS boots the new image uncommitted: the page offers Commit and Revert.
      await page.getByTestId('ota-uncommitted').waitFor();
      await page.screenshot({ path: join(shots, 'ota-uncommitted.png') });
      await page.getByTestId('ota-commit').click();
      await page.getByTestId('ota-uncommitted').waitFor({ state: 'detached' });
      expect(await page.getByTestId('ota-action-error').count()).toBe(0);
      const boot = await api<{ is_committed: boolean }>(
        'POST',
        '/devices/bench-mos/rpc/OTA.GetBootState',
        {},
      );
      expect(boot.is_committed).toBe(true);
      expect(await page.getByTestId('ota-fw-id').textContent()).toBe('e2e-mos-7');
      expect(pageErrors).toEqual([]);
    });
  },
);
