/**
 * The Rollouts page end to end: a real hub on port 0 serving a fresh build of src/renderer, 30
 * simulated Mongoose OS devices labelled "shelf" of which 6 reboot into their old image after an
 * update (sim fault `otaRollback`), and headless Chromium creating the rollout with the form
 * (checking the wave preview), watching it auto-pause at max_failures with the failed devices and
 * their reasons in the table, then resuming and finally aborting with a rollback of the updated
 * devices.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import { SimDevice } from '../../src/main/sim/sim-device';
import { mosFwZip } from '../../src/main/sim/sim-firmware-files';
import type { FirmwareObject } from '../../src/shared/firmware';
import type { Rollout } from '../../src/shared/ota';
import type { DeviceObject } from '../../src/shared/types';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall, uploadFirmware } from '../support/e2e-page';

if (!haveChromium) console.warn(`rollouts e2e skipped: ${CHROMIUM} is missing`);

const COUNT = 30;

describe.skipIf(!haveChromium)(
  'rollouts page e2e (Chromium, real hub, 30 simulated devices)',
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
    const ids = Array.from({ length: COUNT }, (_, i) => `shelf-${String(i).padStart(2, '0')}`);
    // Every fifth device rolls back: 6 of 30.
    const rollbackIds = new Set(ids.filter((_, i) => i % 5 === 4));
    let fw: FirmwareObject;

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
      (await restCall<T>(http, key, method, path, body)).body;

    async function shot(name: string): Promise<void> {
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    }

    beforeAll(async () => {
      ({ tmp, shots } = e2eDirs('fb-e2e-rollouts-'));
      ({ hub, http, dashboard, key } = await startE2eHub(tmp));
      const url = `${http.replace(/^http/, 'ws')}/api/v2/rpc`;
      for (const id of ids) {
        const created = await api<DeviceObject>('POST', '/devices', { id });
        await api('POST', `/devices/${id}`, { shadow: { tags: { labels: 'shelf,lab' } } });
        const d = new SimDevice({
          url,
          password: created.token,
          id,
          family: 'mos',
          arch: 'esp32',
          otaRebootDelayMs: 30,
          reconnect: { initialMs: 50, maxMs: 200 },
          ...(rollbackIds.has(id) ? { faults: { otaRollback: true } } : {}),
        });
        sims.push(d);
        d.start();
      }
      for (let i = 0; i < 200; i++) {
        const list = await api<DeviceObject[]>('GET', '/devices?fields=id,online');
        if (list.filter((d) => d.online).length === COUNT) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const zip = mosFwZip({ version: '3.0.0', build_id: 'e2e-roll-3', bodyBytes: 6000, seed: 9 });
      fw = await uploadFirmware(http, key, zip, 'shelf-3.0.0.zip');
      ({ browser, page } = await openE2ePage(
        { viewport: { width: 1280, height: 900 }, defaultTimeoutMs: 8000 },
        pageErrors,
      ));
    }, 60_000);

    afterAll(async () => {
      await Promise.all(sims.map((s) => s.stop()));
      await closeE2e({ browser, hub, tmp });
    });

    it('creates a rollout from the form with a live wave preview', async () => {
      await page.goto(keyLink(dashboard, key));
      await page.getByTestId('nav-rollouts').click();
      await page.getByTestId('rollouts-empty').waitFor();
      await page.getByTestId('rollout-new').click();
      await page.getByTestId('rollout-firmware').selectOption(fw.id);
      await page.getByTestId('rollout-labels').fill('shelf');
      await page.getByTestId('rollout-waves').fill('1, 10%, 100%');
      await page.getByTestId('rollout-max-failures').fill('3');
      await page.getByTestId('rollout-health').fill('0');
      await page.getByTestId('rollout-concurrency').fill('10');
      await page
        .locator('[data-testid=rollout-preview-total]', { hasText: '30 devices' })
        .waitFor();
      expect(await page.getByTestId('rollout-preview-wave').allTextContents()).toEqual([
        'wave 1 1',
        'wave 2 3',
        'wave 3 26',
      ]);
      expect(await page.getByTestId('rollout-preview').textContent()).toContain(
        'counted by the hub',
      );
      await shot('rollout-form');
      await page.getByTestId('rollout-create').click();
      await page.getByTestId('rollout-detail').waitFor();
      expect(page.url()).toMatch(/#\/rollouts\/.+/);
    });

    it('auto-pauses when 3 devices rolled back, showing them and their reasons', async () => {
      await page.locator('[data-testid=rollout-detail][data-state=paused]').waitFor({
        timeout: 30_000,
      });
      await page.getByTestId('rollout-paused-note').waitFor();
      expect(await page.getByTestId('rollout-paused-note').textContent()).toMatch(/max_failures 3/);
      const failedRows = page.locator('[data-testid=rollout-device][data-state=rolled_back]');
      await failedRows.first().waitFor();
      const failedIds = await failedRows.evaluateAll((els) =>
        els.map((e) => e.getAttribute('data-id')),
      );
      expect(failedIds.length).toBeGreaterThanOrEqual(1);
      for (const id of failedIds) expect(rollbackIds.has(id ?? '')).toBe(true);
      expect(await failedRows.first().textContent()).toMatch(/ota_rolled_back|old/i);
      // The rows are virtualized (only those in view exist): the counts are checked whole.
      const id = decodeURIComponent(page.url().split('#/rollouts/')[1] ?? '');
      const paused = await api<Rollout>('GET', `/rollouts/${id}`);
      expect(paused.state).toBe('paused');
      await page
        .locator('[data-testid=count-failed] .count-n', { hasText: String(paused.counts.failed) })
        .waitFor();
      await shot('rollout-paused');

      // The list page shows it paused, with its counts.
      await page.getByTestId('nav-rollouts').click();
      const row = page.locator('[data-testid=rollout-row][data-state=paused]');
      await row.waitFor();
      await shot('rollouts-list');
      await row.locator('a').click();
      await page.getByTestId('rollout-detail').waitFor();
    });

    it('resumes until every device that rolls back has failed', async () => {
      const id = decodeURIComponent(page.url().split('#/rollouts/')[1] ?? '');
      await page.getByTestId('rollout-resume').click();
      // Resumed, the 6 devices that roll back all fail in the end: paused again, or completed
      // when the last of them failed in the final wave.
      let now: Rollout | null = null;
      for (let i = 0; i < 300; i++) {
        now = await api<Rollout>('GET', `/rollouts/${id}`);
        if (now.counts.failed === rollbackIds.size && now.counts.updating === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(now?.counts.failed).toBe(rollbackIds.size);
      await page.locator(`[data-testid=rollout-detail][data-state=${now?.state ?? ''}]`).waitFor();
      await page
        .locator('[data-testid=count-failed] .count-n', { hasText: String(rollbackIds.size) })
        .waitFor();
      await shot('rollout-after-resume');
    });

    it('aborts a paused rollout and rolls the updated devices back', async () => {
      // A second firmware over the whole shelf: the first wave of 10 holds 2 devices that roll
      // back, so it pauses at max_failures 2 with the other 8 updated.
      const zip = mosFwZip({ version: '4.0.0', build_id: 'e2e-roll-4', bodyBytes: 6000, seed: 10 });
      const fw4 = await uploadFirmware(http, key, zip, 'shelf-4.0.0.zip');
      const created = await api<Rollout>('POST', '/rollouts', {
        firmware: fw4.id,
        devices: ids,
        waves: [10, '100%'],
        max_failures: 2,
        health_s: 0,
        concurrency: 10,
      });
      const id = created.id;
      await page.goto(`${dashboard}#/rollouts/${encodeURIComponent(id)}`);
      await page.locator('[data-testid=rollout-detail][data-state=paused]').waitFor({
        timeout: 30_000,
      });
      await page.getByTestId('rollout-abort').click();
      await page.getByTestId('rollout-abort-confirm').waitFor();
      expect((await api<Rollout>('GET', `/rollouts/${id}`)).counts.done).toBeGreaterThan(0);
      expect(await page.getByTestId('rollout-rollback').isChecked()).toBe(true);
      await shot('rollout-abort-confirm');
      const reply = page.waitForResponse((r) => r.url().endsWith('/abort'));
      await page.getByTestId('rollout-abort-yes').click();
      expect((await reply).status()).toBe(200);
      // The abort started a rollback rollout: the page opens it.
      await page.waitForFunction((old) => !location.hash.endsWith(old), id);
      await page.getByTestId('rollout-detail').waitFor();
      const aborted = await api<Rollout>('GET', `/rollouts/${id}`);
      expect(aborted.state).toBe('aborted');
      await page.getByText(`Rolls back`).waitFor();
      await shot('rollout-rollback');
      expect(pageErrors).toEqual([]);
    });
  },
);
