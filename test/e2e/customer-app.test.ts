/**
 * The built-in customer app (resources/customer-app, issue 10) in real Chromium against a real hub
 * and a simulated device: sign in with an invite link (the token leaves the address bar), see the
 * device with its readable shadow and online dot, toggle a writable boolean (the device gets
 * `Shadow.Delta` and the desired value changes), set a number, a refused write (403) shown and
 * reverted, live shadow updates and offline over the notify socket, RPC allowed and refused, sign
 * out. Phone-sized viewport: the app is made for phones first.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SimDevice } from '../../src/main/sim/sim-device';
import { appSignInLink } from '../../src/shared/customer-app';
import type { DeviceObject } from '../../src/shared/types';
import { CHROMIUM, e2eDirs, haveChromium, launchChromium } from '../support/e2e-harness';
import { restCall } from '../support/e2e-page';
import { startTestHub, type TestHub } from '../support/hub-harness';

if (!haveChromium) console.warn(`customer app e2e skipped: ${CHROMIUM} is missing`);

// A raw '+' in the key: it must reach the hub as a plus (PROTOCOL.md 4).
const PUBLIC_KEY = 'pk+lamp_42';

describe.skipIf(!haveChromium)('built-in customer app e2e (Chromium, real hub, sim)', () => {
  let tmp: string;
  let shots: string;
  let t: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let sim: SimDevice;
  let link = '';
  const calls: { method: string; params: unknown }[] = [];
  const pageErrors: string[] = [];

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    (await restCall<T>(t.http, t.key, method, path, body)).body;
  const device = () => api<DeviceObject>('GET', '/devices/lamp-1');
  const shot = (name: string) =>
    page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const leaf = (path: string) => page.locator(`[data-testid=leaf][data-path="${path}"]`);

  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  beforeAll(async () => {
    ({ tmp, shots } = e2eDirs('fb-e2e-custapp-'));
    t = await startTestHub({ dataDir: join(tmp, 'data') });
    const created = await api<DeviceObject>('POST', '/devices', { id: 'lamp-1', name: 'Lamp' });
    await api('POST', '/devices/lamp-1', {
      acl: {
        public_key: PUBLIC_KEY,
        shadow_read: '^\\.state\\.(reported|desired)\\.',
        shadow_write: '^\\.state\\.desired\\.(on|brightness)$',
        rpc: 'Sys.GetInfo',
      },
    });
    sim = new SimDevice({
      url: `${t.ws}/api/v2/rpc`,
      password: created.token,
      id: 'lamp-1',
      publicKey: PUBLIC_KEY,
      state: { on: false, brightness: 40, mode: 'auto' },
      reconnect: false,
    });
    sim.on('call', (method: string, params: unknown) => calls.push({ method, params }));
    sim.start();
    await until('lamp-1 online', async () => (await device()).online);
    // The device reports its state as Mongoose OS firmware does after boot.
    sim.sendNotification('Dash.Shadow.Update', {
      state: { reported: { on: false, brightness: 40, mode: 'auto' } },
    });
    await until('lamp-1 reported its state', async () => {
      return (await device()).shadow.state.reported['mode'] === 'auto';
    });
    const customer = await api<{ token: string }>('POST', '/customers', {
      email: 'ann@example.com',
      pubkeys: { [PUBLIC_KEY]: { name: 'Porch lamp' } },
    });
    link = appSignInLink(t.http, customer.token);
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    page = await context.newPage();
    page.setDefaultTimeout(8000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // Nothing may be fetched from anywhere but the hub.
    await page.route('**/*', (route) =>
      route.request().url().startsWith(t.http) ? route.continue() : route.abort(),
    );
  }, 60_000);

  afterAll(async () => {
    await sim?.stop();
    await browser?.close();
    await t?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('signs in with the invite link and takes the token out of the address bar', async () => {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(link);
    const card = page.locator('[data-testid=device-card][data-device-id="lamp-1"]');
    await card.waitFor();
    expect(page.url()).toBe(`${t.http}/a/default/`);
    expect(await card.locator('h2').textContent()).toBe('Porch lamp');
    await card.locator('[data-testid=online-dot][data-online=true]').waitFor();
    expect(await leaf('on').getByTestId('leaf-toggle').isChecked()).toBe(false);
    expect(await leaf('brightness').getByTestId('leaf-input').inputValue()).toBe('40');
    expect(await leaf('mode').getByTestId('leaf-input').inputValue()).toBe('auto');
    expect(requests.every((u) => u.startsWith(t.http))).toBe(true);
    await shot('customer-app-signed-in');
  });

  it('toggles a writable boolean: the device gets Shadow.Delta, desired and reported follow', async () => {
    calls.length = 0;
    await leaf('on').getByTestId('leaf-toggle').click();
    await until('Shadow.Delta on=true', async () =>
      calls.some(
        (c) =>
          c.method === 'Shadow.Delta' &&
          (c.params as { state?: { on?: boolean } }).state?.on === true,
      ),
    );
    const d = await device();
    expect(d.shadow.state.desired['on']).toBe(true);
    await until(
      'reported on=true',
      async () => (await device()).shadow.state.reported['on'] === true,
    );
    await page.locator('[data-testid=leaf][data-path="on"][data-pending=false]').waitFor();
    expect(await leaf('on').getByTestId('leaf-toggle').isChecked()).toBe(true);
  });

  it('sets a writable number', async () => {
    await leaf('brightness').getByTestId('leaf-input').fill('75');
    await leaf('brightness').getByTestId('leaf-set').click();
    await until('desired brightness 75', async () => {
      return (await device()).shadow.state.desired['brightness'] === 75;
    });
    await page.locator('[data-testid=leaf][data-path="brightness"][data-value="75"]').waitFor();
  });

  it('shows a refused write (403) clearly, reverts the field and locks it', async () => {
    const mode = leaf('mode');
    await mode.getByTestId('leaf-input').fill('party');
    await mode.getByTestId('leaf-set').click();
    const error = mode.getByTestId('leaf-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('You may not change this setting');
    expect(await mode.getByTestId('leaf-input').inputValue()).toBe('auto');
    expect(await mode.getByTestId('leaf-input').isDisabled()).toBe(true);
    expect((await device()).shadow.state.desired['mode']).toBeUndefined();
    await shot('customer-app-refused');
  });

  it('applies shadow changes live from the notify socket', async () => {
    await api('POST', '/devices/lamp-1/shadow', { state: { desired: { brightness: 10 } } });
    await page.locator('[data-testid=leaf][data-path="brightness"][data-value="10"]').waitFor();
    await page.locator('[data-testid=leaf][data-path="brightness"][data-pending=false]').waitFor();
    expect(await leaf('brightness').getByTestId('leaf-input').inputValue()).toBe('10');
  });

  it('calls an allowed method and shows the refusal of another', async () => {
    await page.locator('details.rpc summary').click();
    await page.getByTestId('rpc-method').fill('Sys.GetInfo');
    await page.getByTestId('rpc-call').click();
    const result = page.locator('[data-testid=rpc-result][data-status=ok]');
    await result.waitFor();
    expect(await result.textContent()).toContain('"id": "lamp-1"');
    await page.getByTestId('rpc-method').fill('Sys.Reboot');
    await page.getByTestId('rpc-call').click();
    const refused = page.locator('[data-testid=rpc-result][data-status=error]');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('Not allowed');
    expect(calls.some((c) => c.method === 'Sys.Reboot')).toBe(false);
    await page.locator('details.events summary').click();
    await shot('customer-app-rpc');
  });

  it('shows the device going offline live', async () => {
    await sim.stop();
    await page.locator('[data-testid=online-dot][data-online=false]').waitFor();
    await shot('customer-app-offline');
    // The app follows the system's dark mode.
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('customer-app-offline-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('signs out: the token is forgotten and the sign-in panel shows', async () => {
    await page.getByTestId('signout').click();
    await page.getByTestId('signin').waitFor();
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    expect(await page.getByTestId('device-card').count()).toBe(0);
    await shot('customer-app-signed-out');
    // A pasted link signs in again.
    await page.getByTestId('signin-link').fill(link);
    await page.getByTestId('signin-link').press('Enter');
    await page.locator('[data-testid=device-card][data-device-id="lamp-1"]').waitFor();
  });

  it('says so when a link no longer works (a deleted customer), and forgets it', async () => {
    await page.goto(`${t.http}/a/default/?not-a-customer-token`);
    const notice = page.getByTestId('app-error');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('no longer valid');
    await page.getByTestId('signin').waitFor();
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
