/**
 * `flash.port.added` / `flash.port.removed` on /api/v2/notify: the hub's port watcher sees a port
 * appear and go away (here a configured extra path, the way a simulator pty is listed).
 */
import { mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Notification } from '../../../../src/shared/types';
import { openPtyPair, type PtyPair } from '../../../support/pty-pair';
import { until } from '../jobs/job-harness';
import { startFlasherHub, type FlasherHub } from './flasher-hub';

let t: FlasherHub;
let pair: PtyPair;
let dir: string;
let link: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fb-port-watch-'));
  link = join(dir, 'ttyBENCH0');
  pair = await openPtyPair();
  t = await startFlasherHub({ extraPorts: [link], portPollMs: 150 });
});
afterAll(async () => {
  await t.stop();
  await pair.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('port notifications', () => {
  it('publishes flash.port.added and flash.port.removed as a port comes and goes', async () => {
    const ws = new WebSocket(`${t.ws}/api/v2/notify?access_token=${t.key}`);
    const events: Notification[] = [];
    ws.on('message', (d) => events.push(JSON.parse(d.toString()) as Notification));
    await new Promise((r) => ws.once('open', r));
    try {
      // Let the watcher finish its first listing: what exists then is not a change.
      await t.hub.services().flasher.watcher!.refresh();
      symlinkSync(pair.b, link); // "plug in"
      await until(() => events.some((e) => e.name === 'flash.port.added'), 5000, 'added');
      expect(events.find((e) => e.name === 'flash.port.added')?.data).toMatchObject({
        path: link,
        kind: 'pty',
      });
      unlinkSync(link); // "unplug"
      await until(() => events.some((e) => e.name === 'flash.port.removed'), 5000, 'removed');
      expect(events.find((e) => e.name === 'flash.port.removed')?.data).toMatchObject({
        path: link,
      });
    } finally {
      ws.close();
    }
  });
});
