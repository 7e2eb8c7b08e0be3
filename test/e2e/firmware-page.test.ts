/**
 * The Firmware page end to end: a real hub on port 0 serving a fresh build of src/renderer and
 * headless Chromium uploading images as a person would (file picker and a synthetic drop), the
 * 200 "already in the library" case, ELF attach, and delete with its confirmation.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import { mosFwZip } from '../../src/main/sim/sim-firmware-files';
import type { FirmwareObject } from '../../src/shared/firmware';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall } from '../support/e2e-page';

if (!haveChromium) console.warn(`firmware e2e skipped: ${CHROMIUM} is missing`);

describe.skipIf(!haveChromium)('firmware page e2e (Chromium, real hub)', () => {
  let tmp: string;
  let shots: string;
  let hub: Hub;
  let http: string;
  let dashboard: string;
  let key: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const zip = mosFwZip({ version: '2.1.0', build_id: 'e2e-build-1', bodyBytes: 40_000, seed: 1 });

  const list = async (): Promise<FirmwareObject[]> =>
    (await restCall<FirmwareObject[]>(http, key, 'GET', '/firmware')).body;

  beforeAll(async () => {
    ({ tmp, shots } = e2eDirs('fb-e2e-firmware-'));
    ({ hub, http, dashboard, key } = await startE2eHub(tmp));
    ({ browser, page } = await openE2ePage(
      { viewport: { width: 1280, height: 800 }, defaultTimeoutMs: 5000 },
      pageErrors,
    ));
  });

  afterAll(() => closeE2e({ browser, hub, tmp }));

  it('opens the Firmware page from the header: an empty library says what to do', async () => {
    await page.goto(keyLink(dashboard, key));
    await page.getByTestId('nav-firmware').click();
    await page.getByTestId('firmware-page').waitFor();
    expect(page.url()).toContain('#/firmware');
    await page.getByTestId('firmware-empty').waitFor();
    await page.screenshot({ path: join(shots, 'firmware-empty.png') });
  });

  it('uploads a fw.zip with the file picker and lists what the manifest says', async () => {
    await page.getByTestId('firmware-file').setInputFiles({
      name: 'app-2.1.0.zip',
      mimeType: 'application/zip',
      buffer: zip,
    });
    await page.getByTestId('firmware-upload-result').waitFor();
    expect(await page.getByTestId('firmware-upload-result').getAttribute('data-existed')).toBe(
      'false',
    );
    const row = page.getByTestId('firmware-row').first();
    await row.waitFor();
    const text = await row.textContent();
    expect(text).toContain('2.1.0');
    expect(text).toContain('esp32');
    expect(text).toContain('fw.zip');
    expect(await row.getByTestId('firmware-elf').getAttribute('data-elf')).toBe('false');
    const [stored] = await list();
    expect(stored?.build_id).toBe('e2e-build-1');
    await page.screenshot({ path: join(shots, 'firmware-listed.png') });
  });

  it('the same bytes dropped again are "already in the library" (200), not a second row', async () => {
    // A real drop: a DataTransfer with the file, dispatched on the drop zone.
    const data = Array.from(zip);
    await page.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'again.zip', { type: 'application/zip' }));
      const zone = document.querySelector('[data-testid=firmware-dropzone]');
      zone?.dispatchEvent(
        new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }),
      );
    }, data);
    await page.locator('[data-testid=firmware-upload-result][data-existed=true]').waitFor();
    expect(await page.getByTestId('firmware-upload-result').textContent()).toContain(
      'Already in the library',
    );
    expect(await page.getByTestId('firmware-row').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'firmware-already.png') });
  });

  it('a file that is no firmware is refused under the drop zone with the hub code', async () => {
    await page.getByTestId('firmware-file').setInputFiles({
      name: 'notes.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('this is not a firmware image at all'),
    });
    const err = page.getByTestId('firmware-upload-error');
    await err.waitFor();
    expect(await err.getAttribute('data-code')).toBe('4003');
    expect(await page.getByTestId('firmware-row').count()).toBe(1);
  });

  it('deletes after a confirmation', async () => {
    await page.getByTestId('firmware-delete').click();
    await page.getByTestId('firmware-delete-confirm').click();
    await page.getByTestId('firmware-empty').waitFor();
    expect(await list()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
