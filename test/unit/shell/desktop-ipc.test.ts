import { describe, expect, it } from 'vitest';
import {
  registerDesktopIpc,
  type DesktopIpcDeps,
  type IpcMainLike,
  type InvokeEventLike,
  type OpenDialogRequest,
} from '../../../src/main/shell/desktop-ipc';
import { BRIDGE_CHANNELS, type BridgeResult } from '../../../src/shared/desktop-bridge';

class FakeIpcMain implements IpcMainLike {
  handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  handle(
    channel: string,
    listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>,
  ): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, url: string | null, ...args: unknown[]): Promise<BridgeResult<unknown>> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    return h({ senderFrame: url === null ? null : { url } }, ...args) as Promise<
      BridgeResult<unknown>
    >;
  }
}

const HUB = 'http://127.0.0.1:8009/';

function setup(overrides: Partial<DesktopIpcDeps> = {}) {
  const ipc = new FakeIpcMain();
  const calls = {
    opened: [] as string[],
    dialogs: [] as OpenDialogRequest[],
    reads: [] as string[],
  };
  const deps: DesktopIpcDeps = {
    ipcMain: ipc,
    isTrustedSender: (url) => url.startsWith(HUB),
    hubInfo: () => ({
      url: 'http://127.0.0.1:8009',
      dashboard: HUB,
      deviceUrl: 'ws://10.0.0.5:8009/api/v2/rpc',
      key: 'master',
    }),
    appVersion: () => ({ app: '0.1.0', electron: '40.10.2', chrome: '1', node: '20' }),
    dataDir: '/data/hub',
    openPath: async (p) => {
      calls.opened.push(p);
      return '';
    },
    showOpenDialog: async (r) => {
      calls.dialogs.push(r);
      return { canceled: false, filePaths: ['/fw/app.bin'] };
    },
    fileSize: async () => 4,
    readFile: async (p) => {
      calls.reads.push(p);
      return new Uint8Array([1, 2, 3, 4]);
    },
    maxFileBytes: 1024,
    ...overrides,
  };
  const unregister = registerDesktopIpc(deps);
  return { ipc, calls, unregister };
}

describe('registerDesktopIpc', () => {
  it('answers every channel of the contract for the dashboard', async () => {
    const { ipc, calls } = setup();
    expect([...ipc.handlers.keys()].sort()).toEqual(Object.values(BRIDGE_CHANNELS).sort());
    expect(await ipc.invoke(BRIDGE_CHANNELS.hubInfo, `${HUB}#/devices`)).toMatchObject({
      ok: true,
      value: { key: 'master' },
    });
    expect(await ipc.invoke(BRIDGE_CHANNELS.appVersion, HUB)).toMatchObject({
      ok: true,
      value: { app: '0.1.0' },
    });
    expect(await ipc.invoke(BRIDGE_CHANNELS.openDataFolder, HUB)).toEqual({
      ok: true,
      value: true,
    });
    expect(calls.opened).toEqual(['/data/hub']);
    const file = await ipc.invoke(BRIDGE_CHANNELS.openFirmwareFile, HUB, {
      extensions: ['hex'],
      title: 'STM32 image',
    });
    expect(file).toEqual({
      ok: true,
      value: {
        canceled: false,
        path: '/fw/app.bin',
        name: 'app.bin',
        size: 4,
        data: new Uint8Array([1, 2, 3, 4]),
      },
    });
    expect(calls.dialogs[0]).toMatchObject({
      title: 'STM32 image',
      properties: ['openFile'],
      filters: [{ extensions: ['hex'] }, { extensions: ['*'] }],
    });
  });

  it('refuses frames that are not the hub dashboard, before doing anything', async () => {
    const { ipc, calls } = setup();
    for (const url of ['https://evil.example/', 'file:///x', null]) {
      const r = await ipc.invoke(BRIDGE_CHANNELS.openDataFolder, url);
      expect(r).toEqual({
        ok: false,
        error: { code: 403, message: expect.stringContaining('only for the hub dashboard') },
      });
      expect(await ipc.invoke(BRIDGE_CHANNELS.hubInfo, url)).toMatchObject({
        ok: false,
        error: { code: 403 },
      });
    }
    expect(calls.opened).toEqual([]);
  });

  it('validates arguments with the contract schemas', async () => {
    const { ipc, calls } = setup();
    expect(await ipc.invoke(BRIDGE_CHANNELS.hubInfo, HUB, 'extra')).toMatchObject({
      ok: false,
      error: { code: 4002 },
    });
    for (const bad of [
      { extensions: ['../../etc'] },
      { extensions: [] },
      { title: 5 },
      { other: 1 },
      'x',
    ]) {
      expect(await ipc.invoke(BRIDGE_CHANNELS.openFirmwareFile, HUB, bad)).toMatchObject({
        ok: false,
        error: { code: 4002 },
      });
    }
    expect(await ipc.invoke(BRIDGE_CHANNELS.openFirmwareFile, HUB, {}, {})).toMatchObject({
      ok: false,
      error: { code: 4002 },
    });
    expect(calls.dialogs).toEqual([]);
  });

  it('handles a cancelled dialog, a file that is too big, and failures as coded results', async () => {
    const cancelled = setup({ showOpenDialog: async () => ({ canceled: true, filePaths: [] }) });
    expect(await cancelled.ipc.invoke(BRIDGE_CHANNELS.openFirmwareFile, HUB)).toEqual({
      ok: true,
      value: { canceled: true },
    });

    const big = setup({ fileSize: async () => 5000 });
    expect(await big.ipc.invoke(BRIDGE_CHANNELS.openFirmwareFile, HUB)).toMatchObject({
      ok: false,
      error: { code: 413 },
    });
    expect(big.calls.reads).toEqual([]);

    const broken = setup({ openPath: async () => 'No application is registered' });
    expect(await broken.ipc.invoke(BRIDGE_CHANNELS.openDataFolder, HUB)).toMatchObject({
      ok: false,
      error: { code: 500, message: expect.stringContaining('No application') },
    });

    const unreadable = setup({
      readFile: async () => {
        throw new Error('EACCES: permission denied');
      },
    });
    expect(await unreadable.ipc.invoke(BRIDGE_CHANNELS.openFirmwareFile, HUB)).toMatchObject({
      ok: false,
      error: { code: 500 },
    });
  });

  it('unregisters every handler', () => {
    const { ipc, unregister } = setup();
    unregister();
    expect(ipc.handlers.size).toBe(0);
  });
});
