/**
 * Customers, apps and the device ACL from the dashboard end to end (issue 10, PROTOCOL.md 4 and
 * 8): a real hub on port 0 serving a fresh build of src/renderer, a simulated device that answers
 * `Shadow.Delta`, and headless Chromium. An app zip is uploaded (and a bad one refused with its
 * code), the device's ACL is set on the ACL tab with its live preview, a customer is invited and
 * the device linked, then the invite link is opened in a FRESH browser context (the built-in app,
 * no dashboard key): the customer sees the device, toggles it, and the device receives
 * `Shadow.Delta`. Raw JSON edits, invalid regexes, deleting a customer and an app are covered too.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import { SimDevice } from '../../src/main/sim/sim-device';
import type { AppObject } from '../../src/shared/apps';
import type { ManagedCustomer } from '../../src/shared/customers';
import type { DeviceObject, Json } from '../../src/shared/types';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall } from '../support/e2e-page';

if (!haveChromium) console.warn(`customers/apps e2e skipped: ${CHROMIUM} is missing`);

describe.skipIf(!haveChromium)('customers, apps and ACL e2e (Chromium, real hub, sim)', () => {
  let tmp: string;
  let shots: string;
  let hub: Hub;
  let http: string;
  let dashboard: string;
  let key: string;
  let browser: Browser;
  let page: Page;
  let sim: SimDevice;
  const calls: { method: string; params: Json }[] = [];
  const pageErrors: string[] = [];
  let publicKey = '';
  let inviteLink = '';

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    (await restCall<T>(http, key, method, path, body)).body;
  const shot = (name: string, p: Page = page): Promise<Buffer> =>
    p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  beforeAll(async () => {
    ({ tmp, shots } = e2eDirs('fb-e2e-cust-'));
    ({ hub, http, dashboard, key } = await startE2eHub(tmp));
    const created = await api<DeviceObject>('POST', '/devices', {
      id: 'lamp-1',
      name: 'Porch lamp',
    });
    sim = new SimDevice({
      url: `${http.replace(/^http/, 'ws')}/api/v2/rpc`,
      password: created.token,
      id: 'lamp-1',
      state: { on: false, brightness: 40 },
      reconnect: { initialMs: 50, maxMs: 200 },
    });
    sim.on('call', (method: string, params: unknown) => {
      calls.push({ method, params: params as Json });
    });
    sim.start();
    await until(
      'lamp-1 online',
      async () => (await api<DeviceObject>('GET', '/devices/lamp-1')).online,
    );
    // The sim reports its state when a delta reaches it: a desired state makes it report.
    await api('POST', '/devices/lamp-1/shadow', {
      state: { desired: { on: false, brightness: 40 } },
    });
    await until('lamp-1 reporting its state', async () => {
      const d = await api<DeviceObject>('GET', '/devices/lamp-1');
      return d.online && d.shadow.state.reported['on'] === false;
    });
    ({ browser, page } = await openE2ePage(
      { viewport: { width: 1280, height: 900 }, defaultTimeoutMs: 8000 },
      pageErrors,
    ));
    await page.goto(keyLink(dashboard, key));
    await page.getByTestId('nav-customers').waitFor();
  }, 120_000);

  afterAll(async () => {
    await sim?.stop();
    await closeE2e({ browser, hub, tmp });
  });

  it('uploads an app zip, opens it at /a/<id>/, refuses a bad zip with its code', async () => {
    await page.getByTestId('nav-apps').click();
    await page.getByTestId('apps-page').waitFor();
    // The built-in app is always listed and cannot be deleted.
    const builtIn = page.locator('[data-testid=app-row][data-id=default]');
    await builtIn.waitFor();
    expect(await builtIn.getByTestId('app-delete').count()).toBe(0);

    const zip = zipSync({
      'my-app/index.html': strToU8('<!doctype html><title>Lights</title><h1>My lights</h1>'),
      'my-app/app.js': strToU8('console.log("hi")'),
    });
    await page.getByTestId('apps-file').setInputFiles({
      name: 'lights.zip',
      mimeType: 'application/zip',
      buffer: Buffer.from(zip),
    });
    await page.getByTestId('apps-upload-result').waitFor();
    const apps = await api<AppObject[]>('GET', '/m');
    const mine = apps.find((a) => !a.builtin);
    expect(mine).toBeDefined();
    const row = page.locator(`[data-testid=app-row][data-id="${mine?.app_id}"]`);
    await row.waitFor();
    expect(await row.getByTestId('app-open').getAttribute('href')).toBe(
      `${http}/a/${mine?.app_id}/`,
    );
    const served = await fetch(`${http}/a/${mine?.app_id}/`);
    expect(await served.text()).toContain('My lights');

    await page.getByTestId('apps-file').setInputFiles({
      name: 'broken.zip',
      mimeType: 'application/zip',
      buffer: Buffer.from('this is not a zip'),
    });
    const err = page.getByTestId('apps-upload-error');
    await err.waitFor();
    expect(Number(await err.getAttribute('data-code'))).toBeGreaterThan(0);
    await shot('apps-page');
  });

  it('sets the ACL on the ACL tab with a live preview of what a customer sees', async () => {
    await page.goto(`${dashboard}#/devices/lamp-1`);
    await page.getByTestId('device-tab-acl').click();
    await page.getByTestId('device-acl-tab').waitFor();
    // The key the device reported in Sys.GetInfo was adopted; cleared, customer access is off.
    expect(await page.getByTestId('acl-public-key').inputValue()).not.toBe('');
    await page.getByTestId('acl-key-clear').click();
    await page.getByTestId('acl-access-off').waitFor();
    await page.getByTestId('acl-key-generate').click();
    publicKey = await page.getByTestId('acl-public-key').inputValue();
    expect(publicKey).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await page.getByTestId('acl-access-off').count()).toBe(0);

    await page.getByTestId('acl-shadow-read').fill('^\\.state\\.(reported|desired)\\.');
    await page.getByTestId('acl-shadow-write').fill('^\\.state\\.desired\\.on$');
    const leaf = (path: string) => page.locator(`[data-testid=acl-leaf][data-path="${path}"]`);
    await leaf('.state.reported.on')
      .and(page.locator('[data-read=true][data-write=true]'))
      .waitFor();
    await leaf('.state.reported.brightness')
      .and(page.locator('[data-read=true][data-write=false]'))
      .waitFor();
    // Hub-side fields outside state are hidden from the customer.
    await leaf('.version').and(page.locator('[data-read=false]')).waitFor();
    // The raw JSON follows the form.
    const raw = JSON.parse(await page.getByTestId('acl-raw').inputValue()) as Record<string, Json>;
    expect(raw).toMatchObject({
      public_key: publicKey,
      shadow_read: '^\\.state\\.(reported|desired)\\.',
      shadow_write: '^\\.state\\.desired\\.on$',
    });
    await shot('acl-tab');
    await page.getByTestId('acl-tab-save').click();
    await until('the ACL saved', async () => {
      const d = await api<DeviceObject>('GET', '/devices/lamp-1');
      return d.acl.public_key === publicKey;
    });
    const d = await api<DeviceObject>('GET', '/devices/lamp-1');
    // Echoed as sent: strings stay strings.
    expect(d.acl.shadow_write).toBe('^\\.state\\.desired\\.on$');
  });

  it('edits the ACL as raw JSON (the form follows) and shows an invalid regex and its 400', async () => {
    const rawBox = page.getByTestId('acl-raw');
    const acl = JSON.parse(await rawBox.inputValue()) as Record<string, Json>;
    await rawBox.fill(JSON.stringify({ ...acl, rpc: 'Sys.GetInfo,Lamp.*' }, null, 2));
    expect(await page.getByTestId('acl-rpc').inputValue()).toBe('Sys.GetInfo, Lamp.*');
    // Broken JSON: flagged, saving blocked.
    await rawBox.fill('{"public_key": ');
    await page.getByTestId('acl-raw-error').waitFor();
    expect(await page.getByTestId('acl-tab-save').isDisabled()).toBe(true);
    await rawBox.fill(JSON.stringify({ ...acl, rpc: 'Sys.GetInfo,Lamp.*' }, null, 2));
    expect(await page.getByTestId('acl-raw-error').count()).toBe(0);

    // An invalid regex: flagged while typing, and the hub's coded 400 on save.
    await page.getByTestId('acl-shadow-read').fill('^\\.state\\.(reported');
    const problem = page.getByTestId('acl-pattern-problem');
    await problem.waitFor();
    expect(await problem.getAttribute('data-field')).toBe('shadow_read');
    await page.getByTestId('acl-tab-save').click();
    const saveError = page.getByTestId('acl-tab-save-error');
    await saveError.waitFor();
    expect(await saveError.getAttribute('data-code')).toMatch(/^4\d{3}$/);
    await shot('acl-invalid-regex');

    await page.getByTestId('acl-shadow-read').fill('^\\.state\\.(reported|desired)\\.');
    await page.getByTestId('acl-tab-save').click();
    await until('the rpc globs saved', async () => {
      const d = await api<DeviceObject>('GET', '/devices/lamp-1');
      return d.acl.rpc === 'Sys.GetInfo,Lamp.*';
    });
    expect(await page.getByTestId('acl-tab-save-error').count()).toBe(0);
  });

  it('invites a customer, shows the link and its QR code, links the device', async () => {
    await page.getByTestId('nav-customers').click();
    await page.getByTestId('customers-page').waitFor();
    await page.getByTestId('invite-email').fill('ann@example.com');
    await page.getByTestId('invite-submit').click();
    await page.getByTestId('invite-result').waitFor();
    inviteLink = await page.getByTestId('invite-link').inputValue();
    expect(inviteLink).toMatch(new RegExp(`^${http}/a/default/\\?[A-Za-z0-9_-]+$`));
    expect(
      Number(await page.getByTestId('invite-qr').getAttribute('data-modules')),
    ).toBeGreaterThan(20);
    const row = page.locator('[data-testid=customer-row][data-email="ann@example.com"]');
    await row.waitFor();
    expect(await row.getAttribute('data-devices')).toBe('0');
    await row.getByTestId('customer-link').selectOption(publicKey);
    await page
      .locator('[data-testid=customer-row][data-email="ann@example.com"][data-devices="1"]')
      .waitFor();
    expect(await row.getByTestId('customer-device').textContent()).toContain('Porch lamp');
    const [c] = await api<ManagedCustomer[]>('GET', '/customers');
    expect(Object.keys(c?.pubkeys ?? {})).toEqual([publicKey]);
    await shot('customers-invited');
  });

  it('the customer opens the link in a fresh browser, sees the device, toggles it: Shadow.Delta', async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
    try {
      const customer = await context.newPage();
      customer.setDefaultTimeout(8000);
      const errors: string[] = [];
      customer.on('pageerror', (e) => errors.push(e.message));
      await customer.goto(inviteLink);
      await customer.getByTestId('device-card').waitFor();
      const toggle = customer.locator(
        '[data-testid=leaf][data-path="on"] [data-testid=leaf-toggle]',
      );
      await toggle.waitFor();
      expect(await toggle.isChecked()).toBe(false);
      expect(await toggle.isDisabled()).toBe(false);
      // Its live stream is open (an update before that is not replayed by the app).
      await customer.locator('[data-testid=device-card][data-live=true]').waitFor();
      await shot('customer-app-before', customer);
      calls.length = 0;
      await toggle.click();
      await until('the device got Shadow.Delta', async () =>
        calls.some(
          (c) =>
            c.method === 'Shadow.Delta' &&
            (c.params as { state?: { on?: boolean } }).state?.on === true,
        ),
      );
      await until('the device reported on=true', async () => {
        const d = await api<DeviceObject>('GET', '/devices/lamp-1');
        return d.shadow.state.reported['on'] === true;
      });
      // The app follows the device live: the switch settles once the device reports it.
      await customer.locator('[data-testid=leaf][data-path="on"][data-pending=false]').waitFor();
      expect(await toggle.isChecked()).toBe(true);
      await shot('customer-app-after', customer);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('unlinks and deletes a customer after confirmation', async () => {
    const row = page.locator('[data-testid=customer-row][data-email="ann@example.com"]');
    await row.getByTestId('customer-unlink').click();
    await page
      .locator('[data-testid=customer-row][data-email="ann@example.com"][data-devices="0"]')
      .waitFor();
    await row.getByTestId('customer-delete').click();
    await row.getByTestId('customer-delete-confirm').click();
    await page.getByTestId('customers-empty').waitFor();
    expect(await api<ManagedCustomer[]>('GET', '/customers')).toEqual([]);
  });

  it('deletes an uploaded app after confirmation', async () => {
    await page.getByTestId('nav-apps').click();
    const own = page.locator('[data-testid=app-row]:not([data-id=default])');
    await own.first().waitFor();
    await own.first().getByTestId('app-delete').click();
    await own.first().getByTestId('app-delete-confirm').click();
    await until('the app gone', async () => (await own.count()) === 0);
    const apps = await api<AppObject[]>('GET', '/m');
    expect(apps.filter((a) => !a.builtin)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
