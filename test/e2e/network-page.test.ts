/**
 * The Network page end to end: a real hub on port 0 with its LAN services on, the SNTP one on a
 * UDP port another program holds, serving a fresh build of src/renderer, and headless Chromium
 * doing what a person would: open Network from the header, read the failing SNTP check and its
 * fix (each command with a Copy button), move SNTP to a free port and run the checks again, and
 * find this hub in "Hubs on this network"; then open the Settings page shell.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall } from '../support/e2e-page';

if (!haveChromium) console.warn(`network page e2e skipped: ${CHROMIUM} is missing`);

async function bindUdp(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}
const closeUdp = (s: Socket): Promise<void> => new Promise((r) => s.close(() => r()));

describe.skipIf(!haveChromium)('network page e2e (Chromium, real hub, real LAN services)', () => {
  let tmp: string;
  let shots: string;
  let hub: Hub;
  let http: string;
  let dashboard: string;
  let key: string;
  let browser: Browser;
  let page: Page;
  let taken: Socket;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ({ tmp, shots } = e2eDirs('fb-e2e-network-'));
    // Another program holds the SNTP port: the hub keeps running and the doctor says what to do.
    taken = await bindUdp();
    const free = await bindUdp();
    const dnsPort = free.address().port;
    await closeUdp(free);
    ({ hub, http, dashboard, key } = await startE2eHub(tmp, {
      lan: { enabled: true, sntpPort: taken.address().port, dnsPort },
      discovery: { mdns: true, mdnsPort: 20000 + Math.floor(Math.random() * 20000) },
    }));
    ({ browser, page } = await openE2ePage(
      { viewport: { width: 1280, height: 1100 }, defaultTimeoutMs: 10_000 },
      pageErrors,
    ));
  });

  afterAll(async () => {
    await closeE2e({ browser, hub, tmp });
    await closeUdp(taken);
  });

  it('shows the checks with the failing one and its fix', async () => {
    await page.goto(keyLink(dashboard, key));
    await page.getByTestId('nav-network').click();
    await page.getByTestId('network-page').waitFor();
    expect(page.url()).toContain('#/network');
    await page.getByTestId('doctor-list').waitFor();
    const ids = await page
      .getByTestId('doctor-check')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(ids).toEqual([
      'lan-address',
      'http-port',
      'tls-port',
      'sntp',
      'dns',
      'tls-cert',
      'clock',
      'mdns',
    ]);
    const sntp = page.locator('[data-testid=doctor-check][data-id=sntp]');
    expect(await sntp.getAttribute('data-state')).toBe('fail');
    expect(await sntp.getByTestId('doctor-detail').textContent()).toContain(
      String(taken.address().port),
    );
    const fix = sntp.getByTestId('doctor-fix');
    expect(await fix.isVisible()).toBe(true);
    // Each command of the fix on its own, with a Copy button.
    expect(await fix.getByTestId('doctor-command').count()).toBeGreaterThan(0);
    expect(await fix.getByTestId('doctor-command-copy').first().isVisible()).toBe(true);
    // The DNS responder on its free port answers the doctor's real query.
    expect(
      await page.locator('[data-testid=doctor-check][data-id=dns]').getAttribute('data-state'),
    ).toBe('ok');
    // A passing check shows no fix.
    expect(
      await page
        .locator('[data-testid=doctor-check][data-id=dns] [data-testid=doctor-fix]')
        .count(),
    ).toBe(0);
    expect(await page.getByTestId('doctor-summary').textContent()).toMatch(/\d+ failed/);
    await page.screenshot({ path: join(shots, 'network-checks.png'), fullPage: true });
  });

  it('runs the checks again: SNTP moved to a free port passes', async () => {
    const free = await bindUdp();
    const port = free.address().port;
    await closeUdp(free);
    const put = await restCall(http, key, 'PUT', '/lan', { sntp_port: port });
    expect(put.status).toBe(200);
    const asked = page.waitForRequest((r) => r.url().includes('/api/v2/doctor'));
    await page.getByTestId('doctor-rerun').click();
    await asked;
    const sntp = page.locator('[data-testid=doctor-check][data-id=sntp][data-state=ok]');
    await sntp.waitFor();
    expect(await sntp.getByTestId('doctor-detail').textContent()).toContain(`UDP ${port} answered`);
    expect(await page.getByTestId('doctor-rerun').isEnabled()).toBe(true);
  });

  it('lists this hub under "Hubs on this network"', async () => {
    const self = page.locator('[data-testid=hub-row][data-self=true]');
    await self.waitFor();
    expect(await self.getByTestId('hub-self').textContent()).toBe('this hub');
    expect(await self.getByTestId('hub-device-url').textContent()).toMatch(
      /^ws:\/\/.+\/api\/v2\/rpc$/,
    );
    await page.screenshot({ path: join(shots, 'network-hubs.png'), fullPage: true });
  });

  it('opens Settings from the header with the LAN services and backup sections', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('settings-page').waitFor();
    expect(page.url()).toContain('#/settings');
    await page.getByTestId('lan-section').waitFor();
    await page.getByTestId('backup').waitFor();
    expect(await page.getByTestId('nav-settings').getAttribute('aria-current')).toBe('page');
    await page.screenshot({ path: join(shots, 'settings.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
