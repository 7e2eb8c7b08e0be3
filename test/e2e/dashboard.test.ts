/**
 * The dashboard end to end: a real hub on port 0 serving a fresh build of src/renderer, simulated
 * devices on real WebSockets, and headless Chromium driving the page the way a user would
 * (DESIGN.md "One API surface"). Every check is also verified through the REST API, so the test
 * fails if the page only pretends.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import { SimFleet } from '../../src/main/sim/sim-fleet';
import type { DeviceObject, ShadowDoc } from '../../src/shared/types';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall } from '../support/e2e-page';
if (!haveChromium) {
  console.warn(`dashboard e2e skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
}

describe.skipIf(!haveChromium)('dashboard e2e (Chromium against a real hub)', () => {
  let tmp: string;
  let shots: string;
  let hub: Hub;
  let http: string;
  let dashboard: string;
  let key: string;
  let browser: Browser;
  let page: Page;
  let fleet: SimFleet | null = null;
  const pageErrors: string[] = [];
  const seeded: DeviceObject[] = [];

  const api = <T>(method: string, path: string, body?: unknown) =>
    restCall<T>(http, key, method, path, body);

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(shots, `${name}.png`) });
  }

  beforeAll(async () => {
    ({ tmp, shots } = e2eDirs('fb-e2e-'));
    ({ hub, http, dashboard, key } = await startE2eHub(tmp));
    for (const name of ['kitchen', 'garage', 'attic']) {
      const r = await api<DeviceObject>('POST', '/devices', { name });
      expect(r.status).toBe(200);
      seeded.push(r.body);
    }
    // Clipboard access for the Copy buttons (127.0.0.1 is a secure context, so the page uses
    // navigator.clipboard and the test can read back what was copied).
    ({ browser, page } = await openE2ePage(
      {
        viewport: { width: 1280, height: 800 },
        defaultTimeoutMs: 10_000,
        permissions: ['clipboard-read', 'clipboard-write'],
      },
      pageErrors,
    ));
  });

  afterAll(async () => {
    await fleet?.stop();
    await closeE2e({ browser, hub, tmp });
  });

  it('rejects a wrong key with a clear message, then logs in with the right one', async () => {
    await page.goto(`${dashboard}#key=not-the-key`);
    const error = page.getByTestId('login-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('401');
    // The key never stays in the address bar.
    expect(page.url()).not.toContain('not-the-key');
    await page.getByTestId('login-key').fill(key);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('device-table').waitFor();
    await expect.poll(() => page.getByTestId('device-row').count()).toBe(3);
  });

  it('opens straight from the #key= link and strips the key from the URL', async () => {
    await page.goto('about:blank');
    await page.goto(keyLink(dashboard, key));
    await expect.poll(() => page.getByTestId('device-row').count()).toBe(3);
    expect(page.url()).not.toContain(key);
    await expect
      .poll(() => page.getByTestId('connection-status').getAttribute('data-state'))
      .toBe('open');
  });

  it('shows devices going online live, with their firmware version', async () => {
    const [a, b] = seeded;
    fleet = new SimFleet({
      url: hub.urls().device,
      passwords: [a!.token, b!.token],
      logIntervalMs: 200,
      reconnect: false,
    });
    fleet.start();
    for (const d of [a!, b!]) {
      const row = page.locator(`[data-testid=device-row][data-device-id="${d.id}"]`);
      await expect.poll(() => row.getAttribute('data-online'), { timeout: 10_000 }).toBe('true');
      await expect.poll(() => row.textContent()).toContain('1.0');
    }
    const third = page.locator(`[data-testid=device-row][data-device-id="${seeded[2]!.id}"]`);
    expect(await third.getAttribute('data-online')).toBe('false');
    expect(await page.getByTestId('device-count').textContent()).toContain('2 online');
    // Search narrows the virtualized list.
    await page.getByTestId('device-search').fill('garage');
    await expect.poll(() => page.getByTestId('device-row').count()).toBe(1);
    await page.getByTestId('device-search').fill('');
    await expect.poll(() => page.getByTestId('device-row').count()).toBe(3);
    await shot('devices');
  });

  it('adds a device and shows its token once', async () => {
    await page.getByTestId('add-device').click();
    await page.getByTestId('new-device-name').fill('porch light');
    await page.getByTestId('create-device').click();
    const tokenField = page.getByTestId('new-device-token');
    await tokenField.waitFor();
    const token = await tokenField.inputValue();
    const url = await page.getByTestId('new-device-url').inputValue();
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/api\/v2\/rpc$/);
    const list = await api<DeviceObject[]>('GET', '/devices');
    const created = list.body.find((d) => d.name === 'porch light');
    expect(created).toBeDefined();
    expect(token).toBe(created!.token);
    await shot('device-added');
    await page.getByTestId('add-device-done').click();
    await expect.poll(() => page.getByTestId('device-row').count()).toBe(4);
    expect(await page.getByTestId('new-device-token').count()).toBe(0);
  });

  it('shows a refused id inside the still-open dialog, not in a toast behind it', async () => {
    const taken = seeded[0]!.id;
    await page.getByTestId('add-device').click();
    const dialog = page.getByTestId('add-device-dialog');
    await page.getByTestId('new-device-name').fill('second kitchen');
    await page.getByTestId('new-device-id').fill(taken);
    await page.getByTestId('create-device').click();
    const error = dialog.getByTestId('add-device-error');
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('4092');
    expect(await error.textContent()).toContain(taken);
    expect(await error.isVisible()).toBe(true);
    expect(await page.getByTestId('toast').count()).toBe(0);
    // The message sits inside the dialog's box, on top (the modal covers everything else).
    const [box, dlg] = await Promise.all([error.boundingBox(), dialog.boundingBox()]);
    expect(box!.y).toBeGreaterThanOrEqual(dlg!.y);
    expect(box!.y + box!.height).toBeLessThanOrEqual(dlg!.y + dlg!.height);
    const onTop = await page.evaluate(
      ([x, y]) =>
        document.elementFromPoint(x!, y!)?.closest('[data-testid=add-device-error]') !== null,
      [box!.x + box!.width / 2, box!.y + box!.height / 2],
    );
    expect(onTop).toBe(true);
    expect(await page.getByTestId('new-device-id').getAttribute('aria-invalid')).toBe('true');
    await shot('add-device-duplicate');
    // Correcting the id clears the message; nothing was created meanwhile.
    await page.getByTestId('new-device-id').fill(`${taken}-b`);
    await expect.poll(() => dialog.getByTestId('add-device-error').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    const list = await api<DeviceObject[]>('GET', '/devices');
    expect(list.body.filter((d) => d.name === 'second kitchen')).toEqual([]);
  });

  it('deletes a device after confirmation', async () => {
    const list = await api<DeviceObject[]>('GET', '/devices');
    const victim = list.body.find((d) => d.name === 'porch light')!;
    const row = page.locator(`[data-testid=device-row][data-device-id="${victim.id}"]`);
    await row.getByTestId('delete-device').click();
    await page.getByTestId('delete-dialog').getByText('cannot be undone').waitFor();
    await shot('delete-confirm');
    await page.getByTestId('confirm-delete').click();
    await expect.poll(() => row.count()).toBe(0);
    expect((await api('GET', `/devices/${encodeURIComponent(victim.id)}`)).status).toBe(404);
    // Deleting through the API elsewhere shows up live too.
    const other = await api<DeviceObject>('POST', '/devices', { name: 'temporary' });
    const otherRow = page.locator(`[data-testid=device-row][data-device-id="${other.body.id}"]`);
    await otherRow.waitFor();
    await api('DELETE', `/devices/${encodeURIComponent(other.body.id)}`);
    await expect.poll(() => otherRow.count()).toBe(0);
  });

  it('edits the desired shadow, calls RPCs and shows the live console', async () => {
    const dev = seeded[0]!;
    await page.locator(`[data-testid=device-row][data-device-id="${dev.id}"] a`).click();
    await page.getByTestId('device-detail').waitFor();
    expect(page.url()).toContain(`#/devices/${dev.id}`);

    // Invalid JSON is refused before anything is sent.
    const editor = page.getByTestId('desired-editor');
    await editor.fill('{"led": tru');
    await page.getByTestId('desired-error').waitFor();
    expect(await page.getByTestId('save-desired').isDisabled()).toBe(true);

    await editor.fill('{\n  "led": true,\n  "interval": 5\n}');
    await page.getByTestId('save-desired').click();
    await expect
      .poll(
        async () => (await api<ShadowDoc>('GET', `/devices/${dev.id}/shadow`)).body.state.desired,
      )
      .toEqual({ led: true, interval: 5 });

    // Removing a key in the editor deletes it on the hub (sent as null).
    await expect.poll(() => page.getByTestId('save-desired').isDisabled()).toBe(true);
    await editor.fill('{"led": true}');
    await page.getByTestId('save-desired').click();
    await expect
      .poll(
        async () => (await api<ShadowDoc>('GET', `/devices/${dev.id}/shadow`)).body.state.desired,
      )
      .toEqual({ led: true });

    // A concurrent change to desired while editing is reported as a conflict, not overwritten.
    await editor.fill('{"led": false}');
    const r = await api('POST', `/devices/${dev.id}/shadow`, {
      state: { desired: { mode: 'eco' } },
    });
    expect(r.status).toBe(200);
    await page.getByTestId('save-desired').click();
    await page.getByTestId('shadow-conflict').waitFor();
    expect(await page.getByTestId('shadow-conflict').textContent()).toContain('4091');
    expect((await api<ShadowDoc>('GET', `/devices/${dev.id}/shadow`)).body.state.desired).toEqual({
      led: true,
      mode: 'eco',
    });
    await page.getByTestId('shadow-conflict').getByRole('button', { name: 'Load latest' }).click();
    await expect.poll(() => editor.inputValue()).toContain('eco');

    // RPC: a result, then a coded error.
    await page.getByTestId('rpc-method').fill('Sys.GetInfo');
    await page.getByTestId('rpc-call').click();
    const result = page.getByTestId('rpc-result');
    await result.waitFor();
    expect(await result.textContent()).toContain('fw_version');
    await page.getByTestId('rpc-method').fill('No.Such.Method');
    await page.getByTestId('rpc-call').click();
    const rpcError = page.getByTestId('rpc-error');
    await rpcError.waitFor();
    expect(Number(await rpcError.getAttribute('data-code'))).toBeGreaterThanOrEqual(400);

    // The console streams rpc.out.Log lines; events list this device's notifications.
    await expect
      .poll(() => page.getByTestId('console-line').count(), { timeout: 5000 })
      .toBeGreaterThan(1);
    expect(await page.getByTestId('console').textContent()).toContain('uptime');
    await expect.poll(() => page.getByTestId('event').count()).toBeGreaterThan(0);
    await shot('device-detail');
  });

  it('shows the device password on demand: masked, revealed, copied', async () => {
    const dev = seeded[0]!;
    const field = page.getByTestId('device-token');
    await field.waitFor();
    expect(await field.getAttribute('data-revealed')).toBe('false');
    expect(await field.inputValue()).not.toContain(dev.token);
    await page.getByTestId('device-token-copy').click();
    await expect.poll(() => page.getByTestId('device-token-copy').textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(dev.token);
    await page.getByTestId('device-token-reveal').click();
    expect(await field.inputValue()).toBe(dev.token);
    // The same password the API gives master-key holders.
    expect((await api<DeviceObject>('GET', `/devices/${dev.id}`)).body.token).toBe(dev.token);
    // Live updates (notifications carry no password) keep it.
    await api('PUT', `/devices/${dev.id}`, { name: 'kitchen' });
    await api('POST', `/devices/${dev.id}/shadow`, { state: { desired: { beep: 1 } } });
    await expect.poll(() => page.getByTestId('desired-editor').inputValue()).toContain('beep');
    expect(await field.inputValue()).toBe(dev.token);
    await shot('device-password');
    await page.getByTestId('device-token-reveal').click();
    expect(await field.getAttribute('data-revealed')).toBe('false');
  });

  it('follows a device going offline on its page, and Back returns to the list', async () => {
    await fleet!.stop();
    fleet = null;
    await expect
      .poll(() => page.getByTestId('detail-online').getAttribute('data-online'), {
        timeout: 10_000,
      })
      .toBe('false');
    await page.goBack();
    await page.getByTestId('device-table').waitFor();
    await expect
      .poll(() => page.locator('[data-testid=device-row][data-online=true]').count())
      .toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
