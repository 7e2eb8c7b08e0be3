/**
 * Backup and restore from the dashboard end to end (issue 12): a real hub on port 0 serving a
 * fresh build of src/renderer, headless Chromium on `#/settings`. "Download backup" saves a zip
 * that verifies as a Fleetbench backup (every SHA-256); a device is then deleted, the backup is
 * restored through "Restore from file" and its confirmation, the hub restarts on the same port,
 * and the device is back. A fw.zip picked by mistake is refused with its code.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import type { DeviceObject } from '../../src/shared/types';
import { DEFAULT_BACKUP } from '../../src/main/config';
import { extractBackup } from '../../src/main/backup/restore-reader';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall } from '../support/e2e-page';
import { waitFor } from '../support/hub-harness';

if (!haveChromium) console.warn(`backup settings e2e skipped: ${CHROMIUM} is missing`);

describe.skipIf(!haveChromium)('Backup and restore in Settings e2e (Chromium, real hub)', () => {
  let tmp: string;
  let shots: string;
  let hub: Hub;
  let http: string;
  let dashboard: string;
  let key: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let saved = '';
  let device: DeviceObject;

  const shot = (name: string): Promise<Buffer> =>
    page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    ({ tmp, shots } = e2eDirs('fb-e2e-backup-'));
    ({ hub, http, dashboard, key } = await startE2eHub(tmp));
    device = (await restCall<DeviceObject>(http, key, 'POST', '/devices', { name: 'keep-me' }))
      .body;
    ({ browser, page } = await openE2ePage(
      { viewport: { width: 1280, height: 1000 }, defaultTimeoutMs: 20_000 },
      pageErrors,
    ));
  }, 180_000);

  afterAll(() => closeE2e({ browser, hub, tmp }));

  it('downloads a backup with progress: a valid Fleetbench archive', async () => {
    await page.goto(keyLink(dashboard, key));
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('backup').waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download backup' }).click();
    const d = await download;
    expect(d.suggestedFilename()).toMatch(/^fleetbench-backup-\d{4}-\d\d-\d\d-\d{6}\.zip$/);
    saved = join(tmp, d.suggestedFilename());
    await d.saveAs(saved);
    await page.getByTestId('backup-result').waitFor();
    const m = await extractBackup(saved, join(tmp, 'verify'), DEFAULT_BACKUP);
    expect(m.counts.devices).toBe(1);
    await shot('backup-downloaded');
  });

  it('refuses a fw.zip picked by mistake, with its code', async () => {
    const fw = join(tmp, 'fw.zip');
    writeFileSync(fw, zipSync({ 'manifest.json': strToU8('{"name":"x"}') }));
    await page.getByTestId('restore-file').setInputFiles(fw);
    await page.getByTestId('restore-confirm-button').click();
    const err = page.getByTestId('backup-error');
    await err.waitFor();
    expect(await err.textContent()).toContain('4227');
    await shot('restore-refused');
  });

  it('restores the backup after a confirmation; the hub restarts and the device is back', async () => {
    const port = new URL(http).port;
    expect((await restCall(http, key, 'DELETE', `/devices/${device.id}`)).status).toBe(200);
    await page.getByTestId('restore-file').setInputFiles(saved);
    await page.getByTestId('restore-confirm').waitFor();
    await shot('restore-confirm');
    await page.getByTestId('restore-confirm-button').click();
    const result = page.getByTestId('restore-result');
    await result.waitFor();
    expect(await result.textContent()).toContain('1 device,');
    await waitFor(
      async () =>
        (await restCall(http, key, 'GET', `/devices/${device.id}`).catch(() => ({ status: 0 })))
          .status === 200,
      20_000,
      'the restored device',
    );
    expect(new URL(hub.urls().http).port).toBe(port);
    await shot('restored');
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
