/**
 * LAN services from the dashboard end to end (issue 12): a real hub on port 0 serving a fresh
 * build of src/renderer, headless Chromium on `#/settings`. The switch turns SNTP and DNS on at
 * free high ports, the section shows both listening, a real resolver (Node's c-ares) gets the
 * hub's address for time.google.com and the answered count follows; a DNS port another program
 * holds shows "not listening" with the fix, and the hub keeps serving the page.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import type { LanStatus } from '../../src/shared/lan';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall } from '../support/e2e-page';

if (!haveChromium) console.warn(`LAN settings e2e skipped: ${CHROMIUM} is missing`);

async function boundSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

async function freeUdpPort(): Promise<number> {
  const s = await boundSocket();
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.skipIf(!haveChromium)(
  'LAN services in Settings e2e (Chromium, real hub, real resolver)',
  () => {
    let tmp: string;
    let shots: string;
    let hub: Hub;
    let http: string;
    let dashboard: string;
    let key: string;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    const shot = (name: string): Promise<Buffer> =>
      page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    const status = async (): Promise<LanStatus> =>
      (await restCall<LanStatus>(http, key, 'GET', '/lan')).body;

    beforeAll(async () => {
      ({ tmp, shots } = e2eDirs('fb-e2e-lan-'));
      ({ hub, http, dashboard, key } = await startE2eHub(tmp));
      ({ browser, page } = await openE2ePage(
        { viewport: { width: 1280, height: 1000 }, defaultTimeoutMs: 15_000 },
        pageErrors,
      ));
    }, 180_000);

    afterAll(() => closeE2e({ browser, hub, tmp }));

    it('turns SNTP and DNS on at high ports; a real DNS query gets the hub', async () => {
      await page.goto(keyLink(dashboard, key));
      await page.getByTestId('nav-settings').click();
      await page.getByTestId('settings-page').waitFor();
      expect(page.url()).toContain('#/settings');
      const section = page.getByTestId('lan-section');
      await section.waitFor();
      await expect(page.getByTestId('lan-enabled').isChecked()).resolves.toBe(false);
      await expect(page.getByTestId('lan-sntp-state').textContent()).resolves.toBe('off');

      const [sntpPort, dnsPort] = [await freeUdpPort(), await freeUdpPort()];
      await page.getByTestId('lan-sntp-port').fill(String(sntpPort));
      await page.getByTestId('lan-dns-port').fill(String(dnsPort));
      await page.getByTestId('lan-enabled').check();
      await page
        .getByTestId('lan-dns-state')
        .filter({ hasText: `listening on UDP ${dnsPort}` })
        .waitFor();
      await expect(page.getByTestId('lan-sntp-state').textContent()).resolves.toBe(
        `listening on UDP ${sntpPort}`,
      );
      const s = await status();
      expect(s).toMatchObject({
        enabled: true,
        sntp: { listening: true },
        dns: { listening: true },
      });

      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([`127.0.0.1:${dnsPort}`]);
      expect(await resolver.resolve4('time.google.com')).toEqual(['127.0.0.1']);
      expect(await resolver.resolve4('2.pool.ntp.org')).toEqual(['127.0.0.1']);
      await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
      // The counter on the page follows (the section polls every 3 s).
      await page
        .getByTestId('lan-dns-answered')
        .filter({ hasText: /^2 answered, 1 refused$/ })
        .waitFor();
      await shot('lan-settings-listening');
    }, 60_000);

    it('shows a port held by another program as not listening, with its fix', async () => {
      const holder = await boundSocket();
      try {
        const taken = holder.address().port;
        await page.getByTestId('lan-dns-port').fill(String(taken));
        await page.getByTestId('lan-save').click();
        const problem = page.getByTestId('lan-dns-problem');
        await problem.waitFor();
        await expect(problem.textContent()).resolves.toContain('another program uses the port');
        await expect(problem.textContent()).resolves.toContain(`ss -ulpn 'sport = :${taken}'`);
        await expect(page.getByTestId('lan-dns-state').textContent()).resolves.toBe(
          `not listening on UDP ${taken}`,
        );
        await expect(page.getByTestId('lan-sntp-status').getAttribute('data-state')).resolves.toBe(
          'listening',
        );
        await shot('lan-settings-port-in-use');
        // Switched off from the page: both sockets closed.
        await page.getByTestId('lan-enabled').uncheck();
        await page.getByTestId('lan-sntp-state').filter({ hasText: /^off$/ }).waitFor();
        expect((await status()).sntp.listening).toBe(false);
      } finally {
        holder.close();
      }
      expect(pageErrors).toEqual([]);
    }, 60_000);
  },
);
