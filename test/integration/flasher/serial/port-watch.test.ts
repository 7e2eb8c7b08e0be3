import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { devFingerprint } from '../../../../src/main/flasher/serial/dev-fingerprint';
import type { PortInfo } from '../../../../src/main/flasher/serial/port-list';
import { PortWatcher } from '../../../../src/main/flasher/serial/port-watch';
import { openPtyPair } from '../../../support/pty-pair';
import { makeFakeTree, type FakeTree } from './fake-dev-tree';
import { until } from '../jobs/job-harness';

let tree: FakeTree | null = null;
let watcher: PortWatcher | null = null;

afterEach(() => {
  watcher?.stop();
  watcher = null;
  tree?.cleanup();
  tree = null;
});

function next(w: PortWatcher, event: 'added' | 'removed', timeoutMs = 3000): Promise<PortInfo> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} event`)), timeoutMs);
    w.once(event, (p: PortInfo) => {
      clearTimeout(t);
      resolve(p);
    });
  });
}

describe('PortWatcher', () => {
  it('reports plug and unplug as added/removed events', async () => {
    tree = makeFakeTree();
    tree.addDevice('ttyUSB0');
    watcher = new PortWatcher({
      intervalMs: 50,
      list: { devRoot: tree.dev, sysRoot: tree.sys, systemList: null },
    });
    const changes: number[] = [];
    watcher.on('changed', (l) => changes.push(l.length));
    const first = await watcher.start();
    expect(first.map((p) => p.path)).toEqual([`${tree.dev}/ttyUSB0`]);

    const added = next(watcher, 'added');
    tree.addUsbSysfs('ttyACM0', '1-3', { idVendor: '0483', idProduct: '374b' }, 'acm');
    tree.addDevice('ttyACM0');
    const a = await added;
    expect(a).toMatchObject({
      path: `${tree.dev}/ttyACM0`,
      vendorId: '0483',
      friendlyName: expect.stringMatching(/ST-LINK/),
    });
    expect(watcher.list()).toHaveLength(2);

    const removed = next(watcher, 'removed');
    tree.remove(`${tree.dev}/ttyUSB0`);
    expect((await removed).path).toBe(`${tree.dev}/ttyUSB0`);
    expect(watcher.list().map((p) => p.path)).toEqual([`${tree.dev}/ttyACM0`]);
    expect(changes).toEqual([2, 1]);
  });

  it('emits initial ports only when asked, and reports a re-plugged different adapter', async () => {
    tree = makeFakeTree();
    tree.addDevice('ttyUSB0');
    tree.addUsbSysfs('ttyUSB0', '1-1', { idVendor: '1a86', idProduct: '7523' }, 'usb-serial');
    watcher = new PortWatcher({
      intervalMs: 50,
      emitInitial: true,
      list: { devRoot: tree.dev, sysRoot: tree.sys, systemList: null },
    });
    const initial = next(watcher, 'added');
    await watcher.start();
    expect((await initial).friendlyName).toBe('CH340 USB Serial (ttyUSB0)');

    // Between two polls the CH340 is swapped for a CP2102 that gets the same name.
    const removed = next(watcher, 'removed');
    const added = next(watcher, 'added');
    tree.remove(`${tree.sys}/class/tty/ttyUSB0`);
    tree.addUsbSysfs('ttyUSB0', '1-4', { idVendor: '10c4', idProduct: 'ea60' }, 'usb-serial');
    expect((await removed).vendorId).toBe('1a86');
    expect((await added).vendorId).toBe('10c4');
  });

  it('sees a simulator pty configured as an extra port come and go', async () => {
    tree = makeFakeTree();
    const pair = await openPtyPair();
    watcher = new PortWatcher({
      intervalMs: 50,
      list: { devRoot: tree.dev, sysRoot: tree.sys, systemList: null, extraPaths: [pair.b] },
    });
    expect((await watcher.start()).map((p) => p.kind)).toEqual(['pty']);
    const removed = next(watcher, 'removed');
    await pair.close();
    expect((await removed).path).toBe(pair.b);
  });

  it('deduplicates warnings, refreshes on demand and validates its interval', async () => {
    tree = makeFakeTree();
    watcher = new PortWatcher({
      intervalMs: 60_000,
      list: {
        devRoot: tree.dev,
        sysRoot: tree.sys,
        systemList: () => Promise.reject(new Error('no udevadm')),
      },
    });
    const warnings: string[] = [];
    watcher.on('warning', (m) => warnings.push(m));
    await watcher.start();
    tree.addDevice('ttyUSB5');
    const [a, b] = await Promise.all([watcher.refresh(), watcher.refresh()]);
    expect(a).toBe(b);
    expect(a.map((p) => p.path)).toEqual([`${tree.dev}/ttyUSB5`]);
    expect(warnings).toHaveLength(1);
    expect(() => new PortWatcher({ intervalMs: 1 })).toThrow(RangeError);
  });

  // Issue 7 item 2: out of file descriptors, the listing must neither kill the process nor make
  // every port look unplugged; it is said once, polls back off, and the watcher recovers.
  it('keeps the last ports through EMFILE listings, warns once, backs off and recovers', async () => {
    tree = makeFakeTree();
    tree.addDevice('ttyUSB0');
    let exhausted = false;
    let calls = 0;
    watcher = new PortWatcher({
      intervalMs: 50,
      maxBackoffMs: 200,
      list: {
        devRoot: tree.dev,
        sysRoot: tree.sys,
        systemList: () => {
          calls++;
          if (!exhausted) return Promise.resolve([]);
          const err = Object.assign(new Error('spawn udevadm EMFILE'), { code: 'EMFILE' });
          return Promise.reject(err);
        },
      },
    });
    const warnings: string[] = [];
    const removed: string[] = [];
    const recovered: number[] = [];
    watcher.on('warning', (m) => warnings.push(m));
    watcher.on('removed', (p) => removed.push(p.path));
    watcher.on('recovered', (n) => recovered.push(n));
    await watcher.start();
    expect(watcher.list()).toHaveLength(1);

    exhausted = true;
    calls = 0;
    await new Promise((r) => setTimeout(r, 900));
    // Backoff: 100, 200, 200, 200 ms instead of a poll every 50 ms (about 18).
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(7);
    expect(watcher.failedPolls).toBe(calls);
    expect(watcher.nextDelayMs()).toBe(200);
    expect(warnings).toEqual([expect.stringMatching(/port listing failed: spawn udevadm EMFILE/)]);
    expect(removed).toEqual([]);
    expect(watcher.list().map((p) => p.path)).toEqual([`${tree.dev}/ttyUSB0`]);

    exhausted = false;
    const added = next(watcher, 'added', 2000);
    tree.addDevice('ttyUSB1');
    expect((await added).path).toBe(`${tree.dev}/ttyUSB1`);
    expect(recovered).toHaveLength(1);
    expect(watcher.failedPolls).toBe(0);
    expect(watcher.nextDelayMs()).toBe(50);
    expect(warnings).toHaveLength(1);
  });

  it('keeps polling after a first poll that fails', async () => {
    tree = makeFakeTree();
    let fail = true;
    watcher = new PortWatcher({
      intervalMs: 50,
      maxBackoffMs: 50,
      list: {
        devRoot: tree.dev,
        sysRoot: tree.sys,
        systemList: () =>
          fail
            ? Promise.reject(Object.assign(new Error('too many open files'), { code: 'ENFILE' }))
            : Promise.resolve([]),
      },
    });
    await expect(watcher.start()).resolves.toEqual([]);
    fail = false;
    tree.addDevice('ttyACM3');
    await until(() => watcher?.list().length === 1, 2000);
  });
});

describe('PortWatcher with a /dev summary (issue 11: no udevadm run per idle poll)', () => {
  it('lists again only when the serial nodes change, and confirms each change once', async () => {
    tree = makeFakeTree();
    tree.addDevice('ttyUSB0');
    const dev = tree.dev;
    let systemCalls = 0;
    // Stands in for udevadm: what the system says is what /dev holds.
    const systemList = async (): Promise<{ path: string }[]> => {
      systemCalls++;
      return (await readdir(dev))
        .filter((n) => n.startsWith('tty'))
        .map((n) => ({ path: join(dev, n) }));
    };
    watcher = new PortWatcher({
      intervalMs: 50,
      fingerprint: devFingerprint,
      list: { devRoot: dev, sysRoot: tree.sys, systemList },
    });
    await watcher.start();
    const w = watcher;
    // The first listing, one that confirms it, then none while nothing changes.
    await until(() => w.listings === 2);
    await new Promise((r) => setTimeout(r, 400));
    expect(w.listings).toBe(2);
    expect(systemCalls).toBe(2);

    const added = next(w, 'added');
    tree.addDevice('ttyACM0');
    expect((await added).path).toBe(join(dev, 'ttyACM0'));
    await until(() => w.listings === 4);
    await new Promise((r) => setTimeout(r, 400));
    expect(w.listings).toBe(4);

    // A refresh asked for (the REST button) always lists.
    await w.refresh();
    expect(w.listings).toBe(5);

    // Re-created under the same name (another adapter): a new inode is a change.
    const removed = next(w, 'removed');
    tree.remove(join(dev, 'ttyUSB0'));
    await removed;
    const back = next(w, 'added');
    tree.addDevice('ttyUSB0');
    expect((await back).path).toBe(join(dev, 'ttyUSB0'));
  });

  it('is on by default only for the system lister on Linux', () => {
    const w = new PortWatcher({ list: { systemList: null } });
    expect((w as unknown as { fingerprint: unknown }).fingerprint).toBeNull();
    const d = new PortWatcher({});
    expect((d as unknown as { fingerprint: unknown }).fingerprint).toBe(
      process.platform === 'linux' ? devFingerprint : null,
    );
  });
});
