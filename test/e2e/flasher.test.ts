/**
 * The dashboard's Flasher page end to end: a real hub on port 0 serving a fresh build of
 * src/renderer, the ESP32 bootloader simulator on a socat pty pair listed as a port
 * (`flasher.extraPorts`), and headless Chromium driving the page as a person would: pick the port
 * and a firmware file, flash, watch the progress to done with the chip and MAC shown. The
 * simulator's flash is then compared byte for byte with the file, so the test fails if the page
 * only pretends. Failure paths: a port with no board on it (the job fails with the hub's hint) and
 * a request the hub refuses (shown beside the Flash button with its code).
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { SerialPort } from 'serialport';
import type { Hub } from '../../src/main/hub';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall } from '../support/e2e-page';
import { firmwareLike, startSim, type SimRig } from '../support/esp32-sim-harness';
import { openPtyPair, type PtyPair } from '../support/pty-pair';

const haveSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
const skipReason = !haveChromium
  ? `${CHROMIUM} is missing (apt-get install chromium)`
  : !haveSocat
    ? 'socat is missing (apt-get install socat)'
    : null;
if (skipReason) console.warn(`flasher e2e skipped: ${skipReason}`);

const SIM_MAC = '24:0a:c4:12:34:56';
const APP_ADDRESS = 0x10000;

interface JobRecordLike {
  id: string;
  port: string;
  state: { state: string; code?: string; hint?: string };
}

describe.skipIf(skipReason !== null)(
  'flasher page e2e (Chromium, real hub, ESP32 simulator)',
  () => {
    let tmp: string;
    let shots: string;
    let rig: SimRig;
    let quiet: PtyPair;
    let hub: Hub;
    let http: string;
    let dashboard: string;
    let key: string;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    const image = firmwareLike(64 * 1024);

    const api = <T>(method: string, path: string) => restCall<T>(http, key, method, path);

    /** The whole page: the flasher scrolls inside <main>, so the window grows to fit it for the shot. */
    async function shot(name: string, width = 1280): Promise<void> {
      await page.setViewportSize({ width, height: 900 });
      const height = await page.evaluate(() => {
        const main = document.querySelector('main');
        const header = document.querySelector('header');
        return (main?.scrollHeight ?? 0) + (header?.getBoundingClientRect().height ?? 0);
      });
      await page.setViewportSize({ width, height: Math.max(900, Math.ceil(height)) });
      await page.screenshot({ path: join(shots, `${name}.png`) });
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    const jobCard = (port: string) =>
      page.locator('[data-testid=flash-job]').filter({ hasText: port }).first();

    beforeAll(async () => {
      ({ tmp, shots } = e2eDirs('fb-e2e-flasher-'));
      // Throttled: the simulator takes a real UART's time, so the progress bar has time to move.
      rig = await startSim({ mac: SIM_MAC, throttle: true });
      // A second pty pair with nothing on its far end: a port with no board answering.
      quiet = await openPtyPair();
      ({ hub, http, dashboard, key } = await startE2eHub(tmp, {
        flasher: { extraPorts: [rig.host, quiet.b], portPollMs: 0 },
      }));
      ({ browser, page } = await openE2ePage(
        { viewport: { width: 1280, height: 900 }, defaultTimeoutMs: 5000 },
        pageErrors,
      ));
    });

    afterAll(async () => {
      // The hub lets go of the ports before the pty pairs close under it.
      await closeE2e({ browser, hub });
      await rig?.close();
      await quiet?.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('opens the Flasher page from the #key= link and lists the simulator port', async () => {
      await page.goto(keyLink(dashboard, key));
      await page.getByTestId('nav-flasher').click();
      await page.getByTestId('flasher').waitFor();
      expect(page.url()).toContain('#/flasher');
      expect(page.url()).not.toContain(key);
      const row = page.locator(`[data-testid=port-row][data-path="${rig.host}"]`);
      await row.waitFor();
      expect(await row.getByTestId('port-owner').textContent()).toBe('free');
      expect(await page.locator('[data-testid=port-row]').count()).toBe(2);
      // Nothing chosen yet: the button says why it cannot flash.
      expect(await page.getByTestId('flash-submit').isDisabled()).toBe(true);
      expect(await page.getByTestId('flash-blocker').textContent()).toContain('firmware file');
      await page.getByText('No flash jobs yet').waitFor();
      await shot('flasher-empty');
    });

    it('flashes a chosen file to 0x10000 and follows the job live to done', async () => {
      await page.getByTestId('flash-port').selectOption(rig.host);
      await page.getByTestId('flash-files').setInputFiles({
        name: 'app.bin',
        mimeType: 'application/octet-stream',
        buffer: image,
      });
      await page.getByTestId('flash-address').fill('0x10000');
      expect(await page.getByTestId('flash-file-rows').textContent()).toContain('64 KB');
      await shot('flasher-ready');

      // Record every state the job card shows, to prove the progress moved on the page itself.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { seenStates: string[] }).seenStates = seen;
        const record = (): void => {
          const el = document.querySelector('[data-testid=flash-job]');
          if (!el) return;
          const v = `${el.getAttribute('data-state') ?? ''} ${el.querySelector('[data-testid=job-percent]')?.textContent ?? ''}`;
          if (seen[seen.length - 1] !== v) seen.push(v);
        };
        new MutationObserver(record).observe(document.body, {
          subtree: true,
          childList: true,
          attributes: true,
          characterData: true,
        });
      });
      await page.getByTestId('flash-submit').click();
      // A look at the bar mid-way, for the screenshot only (the seen states are what is asserted).
      await page
        .locator('[data-testid=flash-job][data-state=writing]')
        .waitFor({ timeout: 10_000 })
        .then(
          () => page.screenshot({ path: join(shots, 'flasher-writing.png') }),
          () => undefined,
        );

      const card = jobCard(rig.host);
      await expect.poll(() => card.getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
      expect(await card.getByTestId('job-state').textContent()).toMatch(/^Done in \d+\.\d s$/);
      expect(await card.getByTestId('job-percent').textContent()).toBe('100 %');
      const chip = await card.getByTestId('job-chip').textContent();
      expect(chip).toContain('ESP32');
      expect(chip).toContain(SIM_MAC);
      expect(await card.textContent()).toContain('app.bin @ 0x10000 (64 KB)');
      const seen = await page.evaluate(
        () => (window as unknown as { seenStates: string[] }).seenStates,
      );
      expect(seen.some((s) => s.startsWith('writing'))).toBe(true);
      expect(seen.at(-1)).toBe('done 100 %');
      // The port is free again once the job is over.
      const row = page.locator(`[data-testid=port-row][data-path="${rig.host}"]`);
      await expect.poll(() => row.getByTestId('port-owner').textContent()).toBe('free');
      await shot('flasher-done');

      // The hub agrees, and the board really holds the file at 0x10000, byte for byte.
      const jobs = await api<JobRecordLike[]>('GET', '/local/jobs');
      expect(jobs.body.filter((j) => j.port === rig.host).map((j) => j.state.state)).toEqual([
        'done',
      ]);
      const written = rig.sim.flash.subarray(APP_ADDRESS, APP_ADDRESS + image.length);
      expect(Buffer.compare(written, image)).toBe(0);
      // And nothing beyond it was touched.
      expect(rig.sim.flash[APP_ADDRESS + image.length]).toBe(0xff);
    });

    it('shows a request the hub refuses beside the Flash button, and starts nothing', async () => {
      const before = (await api<JobRecordLike[]>('GET', '/local/jobs')).body.length;
      // Not on a flash sector boundary: the hub refuses it before touching the port.
      await page.getByTestId('flash-address').fill('0x10800');
      await page.getByTestId('flash-submit').click();
      const error = page.getByTestId('flash-error');
      await error.waitFor();
      const text = (await error.textContent()) ?? '';
      expect(text).toMatch(/^4003/);
      expect(text).toContain('Not flashed: app.bin: flash address 0x10800');
      // The hub's hint, split from its message, shown as a hint.
      expect(await page.getByTestId('flash-error-hint').textContent()).toContain('sector');
      await shot('flasher-refused');
      expect((await api<JobRecordLike[]>('GET', '/local/jobs')).body.length).toBe(before);
      // Changing the form clears the stale error.
      await page.getByTestId('flash-address').fill('0x10000');
      await expect.poll(() => error.count()).toBe(0);
    });

    it('reports a port with no board answering, with the hint, and frees the port', async () => {
      await page.getByTestId('flash-port').selectOption(quiet.b);
      await page.getByTestId('flash-submit').click();
      const card = jobCard(quiet.b);
      await card.waitFor();
      // While the job runs the port is busy, and the form says so instead of offering Flash.
      const row = page.locator(`[data-testid=port-row][data-path="${quiet.b}"]`);
      await expect.poll(() => row.getByTestId('port-owner').textContent()).toMatch(/^flash job j/);
      expect(await page.getByTestId('flash-submit').isDisabled()).toBe(true);
      expect(await page.getByTestId('flash-blocker').textContent()).toContain(
        'in use by flash job',
      );
      await expect
        .poll(() => card.getAttribute('data-state'), { timeout: 10_000 })
        .toBe('connecting');
      await shot('flasher-connecting');

      await expect.poll(() => card.getAttribute('data-state'), { timeout: 25_000 }).toBe('failed');
      const err = card.getByTestId('job-error');
      expect(await err.textContent()).toContain('no_sync');
      expect(await card.getByTestId('job-hint').textContent()).toMatch(/BOOT/);
      await expect.poll(() => row.getByTestId('port-owner').textContent()).toBe('free');
      await shot('flasher-failed');
      const job = (await api<JobRecordLike[]>('GET', '/local/jobs')).body.find(
        (j) => j.port === quiet.b,
      );
      expect(job?.state).toMatchObject({ state: 'failed', code: 'no_sync' });
    });

    it('monitors a port: shows what the board prints, sends what is typed, holds the port', async () => {
      // The board's side of the quiet line.
      const board = new SerialPort({ path: quiet.a, baudRate: 115200, autoOpen: false });
      await new Promise<void>((res, rej) => board.open((e) => (e ? rej(e) : res())));
      let received = '';
      board.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      try {
        await page.getByTestId('monitor-port').selectOption(quiet.b);
        await page.getByTestId('monitor-open').click();
        await expect
          .poll(() => page.getByTestId('monitor-status').textContent(), { timeout: 5000 })
          .toContain('open on');
        board.write('I (312) app: hello from the board\r\n');
        const line = page.locator('[data-testid=monitor-line][data-kind=line]');
        await expect
          .poll(() => line.first().textContent(), { timeout: 5000 })
          .toBe('I (312) app: hello from the board');
        await page.getByTestId('monitor-input').fill('status');
        await page.getByTestId('monitor-input').press('Enter');
        await expect.poll(() => received, { timeout: 5000 }).toBe('status\r\n');
        // The monitor holds the port: the port list says so and the flash form will not use it.
        const row = page.locator(`[data-testid=port-row][data-path="${quiet.b}"]`);
        await expect.poll(() => row.getByTestId('port-owner').textContent()).toMatch(/^monitor m/);
        // (The form still has this port chosen from the last flash; busy ports cannot be picked.)
        expect(await page.getByTestId('flash-port').inputValue()).toBe(quiet.b);
        expect(await page.getByTestId('flash-submit').isDisabled()).toBe(true);
        expect(await page.getByTestId('flash-blocker').textContent()).toContain(
          'in use by monitor',
        );
        await shot('flasher-monitor');
        await page.getByTestId('monitor-close').click();
        await expect.poll(() => row.getByTestId('port-owner').textContent()).toBe('free');
        expect(await page.getByTestId('flash-submit').isDisabled()).toBe(false);
        await shot('flasher-narrow', 720);
        await page.emulateMedia({ colorScheme: 'dark' });
        await shot('flasher-dark');
        await page.emulateMedia({ colorScheme: 'light' });
      } finally {
        await new Promise<void>((res) => board.close(() => res()));
      }
      expect(pageErrors).toEqual([]);
    });
  },
);
