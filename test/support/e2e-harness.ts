/**
 * Setup shared by the Chromium end-to-end tests: a temp dir with a screenshots folder, a fresh
 * build of src/renderer, a real hub on port 0 serving it, and a headless Chromium.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look, FLEETBENCH_CHROMIUM=<path>
 * to use another Chromium. With CI set, a missing browser fails the run instead of skipping.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import react from '@vitejs/plugin-react';
import { build } from 'vite';
import { createHub, type Hub } from '../../src/main/hub';
import { browserGate } from './browser-gate';

// Run, skip (locally, with each suite's warning) or fail (under CI) when the browser is missing:
// see browser-gate.ts. Failing here fails every e2e file at collection, with the message.
const gate = browserGate(process.env, existsSync);
if (gate.action === 'fail') throw new Error(gate.message);

export const CHROMIUM = gate.path;
export const haveChromium = gate.action === 'run';

/** A fresh temp dir, and the screenshots dir (FLEETBENCH_E2E_SHOTS or one inside the temp dir). */
export function e2eDirs(prefix: string): { tmp: string; shots: string } {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const shots = process.env.FLEETBENCH_E2E_SHOTS ?? join(tmp, 'shots');
  mkdirSync(shots, { recursive: true });
  return { tmp, shots };
}

/**
 * A real hub on port 0 (or `extra.port`: a restart on the same address) serving a fresh build of
 * the renderer, with its data under `tmp`.
 */
export async function startE2eHub(
  tmp: string,
  extra: Pick<Parameters<typeof createHub>[0], 'flasher' | 'port' | 'lan' | 'discovery'> = {},
): Promise<{ hub: Hub; http: string; dashboard: string; key: string }> {
  // A fresh build of the renderer, so the test never runs against a stale out/renderer (built
  // once per temp dir: a restarted hub serves the same build).
  const rendererDir = join(tmp, 'renderer');
  if (!existsSync(join(rendererDir, 'index.html'))) await buildRenderer(rendererDir);
  const hub = createHub({
    dataDir: join(tmp, 'data'),
    port: 0,
    host: '127.0.0.1',
    rendererDir,
    logLevel: 'silent',
    ...extra,
  });
  const urls = await hub.start();
  return { hub, http: urls.http, dashboard: urls.dashboard, key: hub.masterKey() };
}

async function buildRenderer(rendererDir: string): Promise<void> {
  await build({
    configFile: false,
    logLevel: 'error',
    root: resolve('src/renderer'),
    base: './',
    plugins: [react()],
    build: { outDir: rendererDir, emptyOutDir: true },
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
