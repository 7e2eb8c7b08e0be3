/**
 * What every Chromium end-to-end test does around its own steps: open one page that collects its
 * errors, talk to the hub's REST API with the master key (to seed and to check what the page
 * shows), upload firmware, and tear it all down. The hub and the browser come from e2e-harness.ts.
 */
import { rmSync } from 'node:fs';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import type { FirmwareObject } from '../../src/shared/firmware';
import { launchChromium } from './e2e-harness';

export interface E2ePageOptions {
  viewport: { width: number; height: number };
  /** A missing element fails the step in this time, naming it, instead of at the test timeout. */
  defaultTimeoutMs?: number;
  permissions?: BrowserContextOptions['permissions'];
}

/** A headless Chromium with one page; the page's uncaught errors are pushed to `pageErrors`. */
export async function openE2ePage(
  opts: E2ePageOptions,
  pageErrors: string[],
): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage({
    viewport: opts.viewport,
    ...(opts.permissions ? { permissions: opts.permissions } : {}),
  });
  if (opts.defaultTimeoutMs !== undefined) page.setDefaultTimeout(opts.defaultTimeoutMs);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { browser, page };
}

/** The dashboard link that logs in with `key` (the page strips it from the address bar). */
export function keyLink(dashboard: string, key: string): string {
  return `${dashboard}#key=${encodeURIComponent(key)}`;
}

/** A JSON call to `${base}/api/v2${path}` with the key; an empty answer reads as null. */
export async function restCall<T>(
  base: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}/api/v2${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
}

/** Adds `file` to the firmware library the way the dashboard does (multipart `file`). */
export async function uploadFirmware(
  base: string,
  key: string,
  file: Uint8Array,
  name: string,
): Promise<FirmwareObject> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(file)]), name);
  const res = await fetch(`${base}/api/v2/firmware`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
  return (await res.json()) as FirmwareObject;
}

/** Closes the browser, stops the hub and removes the temp dir; each part may never have started. */
export async function closeE2e(parts: {
  browser?: Browser | undefined;
  hub?: Hub | null | undefined;
  tmp?: string | undefined;
}): Promise<void> {
  await parts.browser?.close();
  await parts.hub?.stop();
  if (parts.tmp) rmSync(parts.tmp, { recursive: true, force: true });
}
