/**
 * The dashboard at a few hundred devices and without its hub, in real Chromium against a real
 * hub: the device list is read once on load (with only the table's fields), and when the hub
 * stops every view says so at once (banner, greyed values, the time of the last update); when
 * the hub comes back on the same address the page reconnects by itself and reloads what changed
 * while it was away.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import type { DeviceObject } from '../../src/shared/types';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall } from '../support/e2e-page';

const DEVICES = 300;

if (!haveChromium) {
  console.warn(`dashboard offline e2e skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
}

describe.skipIf(!haveChromium)('dashboard e2e: one list read, and the hub going away', () => {
  let tmp: string;
  let shots: string;
  let hub: Hub | null = null;
  let http: string;
  let dashboard: string;
  let key: string;
  let port: number;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  /** Every request for the device list (not one device: `/devices/:id`). */
  const listRequests: string[] = [];

  /** `base`: the hub under test, or another one on the same data. */
  const api = <T>(base: string, method: string, path: string, body?: unknown) =>
    restCall<T>(base, key, method, path, body);

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(shots, `${name}.png`) });
  }

  const banner = (): ReturnType<Page['getByTestId']> => page.getByTestId('offline-banner');

  beforeAll(async () => {
    ({ tmp, shots } = e2eDirs('fb-e2e-offline-'));
    ({ hub, http, dashboard, key } = await startE2eHub(tmp));
    port = Number(new URL(http).port);
    for (let i = 0; i < DEVICES; i++) {
      const id = `sensor-${String(i).padStart(3, '0')}`;
      const r = await api(http, 'POST', '/devices', { id, name: `Sensor ${i}` });
      expect(r.status).toBe(200);
    }
    ({ browser, page } = await openE2ePage({ viewport: { width: 1280, height: 800 } }, pageErrors));
    page.on('request', (req) => {
      if (new URL(req.url()).pathname === '/api/v2/devices') listRequests.push(req.url());
    });
  }, 120_000);

  afterAll(() => closeE2e({ browser, hub, tmp }));

  it(`reads the list of ${DEVICES} devices once on load, with only the table's fields`, async () => {
    await page.goto(keyLink(dashboard, key));
    await page.getByTestId('device-table').waitFor();
    await expect
      .poll(() => page.getByTestId('device-count').textContent())
      .toContain(`${DEVICES} devices`);
    await expect
      .poll(() => page.getByTestId('connection-status').getAttribute('data-state'))
      .toBe('open');
    // Whatever an extra read on the stream's open would do has had time to happen.
    await page.waitForTimeout(500);
    expect(listRequests).toHaveLength(1);
    const fields = new URL(listRequests[0]!).searchParams.get('fields') ?? '';
    expect(fields.split(',')).toContain('name');
    expect(fields).not.toMatch(/(^|,)shadow(,|$)/);
    // Only a window of rows exists in the page.
    expect(await page.getByTestId('device-row').count()).toBeLessThan(40);
    expect(await banner().count()).toBe(0);
    await shot('offline-0-live');
  });

  it('says at once on every view that the hub is gone, with the time of the last update', async () => {
    // Open a device first: the detail view has to say it too.
    await page.locator('[data-testid=device-row][data-device-id="sensor-000"] a').click();
    await page.getByTestId('device-detail').waitFor();
    await page.getByTestId('device-token').waitFor();

    const stoppedAt = Date.now();
    await hub!.stop();
    hub = null;
    await banner().waitFor({ timeout: 3000 });
    expect(Date.now() - stoppedAt).toBeLessThan(3000);
    expect(await banner().textContent()).toContain('not reachable');
    expect(await page.getByTestId('offline-since').textContent()).toMatch(
      /Last update \d\d:\d\d:\d\d/,
    );
    expect(await page.getByTestId('detail-online').getAttribute('data-stale')).toBe('true');
    expect(await page.getByTestId('connection-status').getAttribute('data-state')).not.toBe('open');
    await shot('offline-1-detail');

    await page.getByRole('link', { name: '← Devices' }).click();
    await page.getByTestId('device-table').waitFor();
    await banner().waitFor();
    await expect
      .poll(() => page.locator('[data-testid=device-row]').first().getAttribute('data-stale'))
      .toBe('true');
    await shot('offline-2-list');
  });

  it('reconnects by itself when the hub is back on the same port, and reloads what it missed', async () => {
    // Changes the page cannot hear about: made while its hub is down, by another hub on the
    // same data (on another port).
    const other = await startE2eHub(tmp);
    expect((await api(other.http, 'POST', '/devices', { id: 'zz-while-away' })).status).toBe(200);
    expect(
      (await api(other.http, 'PUT', '/devices/sensor-001', { name: 'Renamed while away' })).status,
    ).toBe(200);
    await other.hub.stop();

    ({ hub } = await startE2eHub(tmp, { port }));
    const before = listRequests.length;
    await banner().waitFor({ state: 'detached', timeout: 30_000 });
    await expect
      .poll(() => page.getByTestId('connection-status').getAttribute('data-state'))
      .toBe('open');
    await expect
      .poll(() => page.getByTestId('device-count').textContent())
      .toContain(`${DEVICES + 1} devices`);
    expect(listRequests.length).toBe(before + 1);
    await page.getByTestId('device-search').fill('Renamed while away');
    await expect.poll(() => page.getByTestId('device-row').count()).toBe(1);
    expect(await page.locator('[data-testid=device-row]').first().getAttribute('data-stale')).toBe(
      'false',
    );
    await page.getByTestId('device-search').fill('');
    await shot('offline-3-back');
    const list = await api<DeviceObject[]>(http, 'GET', '/devices');
    expect(list.body).toHaveLength(DEVICES + 1);
    expect(pageErrors).toEqual([]);
  });
});
