import { describe, expect, it } from 'vitest';
import { createBridge, type IpcRendererLike } from '../../../src/preload/bridge';
import { BRIDGE_CHANNELS } from '../../../src/shared/desktop-bridge';

class FakeIpcRenderer implements IpcRendererLike {
  calls: { channel: string; args: unknown[] }[] = [];
  constructor(private readonly answer: (channel: string) => unknown) {}
  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.calls.push({ channel, args });
    return this.answer(channel);
  }
}

describe('preload bridge', () => {
  it('maps each method to its own channel with its own arguments', async () => {
    const ipc = new FakeIpcRenderer((c) => ({ ok: true, value: c }));
    const bridge = createBridge(ipc);
    expect(await bridge.hubInfo()).toEqual({ ok: true, value: BRIDGE_CHANNELS.hubInfo });
    await bridge.appVersion();
    await bridge.openDataFolder();
    await bridge.openFirmwareFile();
    await bridge.openFirmwareFile({ extensions: ['bin'] });
    expect(ipc.calls).toEqual([
      { channel: BRIDGE_CHANNELS.hubInfo, args: [] },
      { channel: BRIDGE_CHANNELS.appVersion, args: [] },
      { channel: BRIDGE_CHANNELS.openDataFolder, args: [] },
      { channel: BRIDGE_CHANNELS.openFirmwareFile, args: [] },
      { channel: BRIDGE_CHANNELS.openFirmwareFile, args: [{ extensions: ['bin'] }] },
    ]);
  });

  it('exposes no generic IPC and cannot be modified by the page', () => {
    const bridge = createBridge(new FakeIpcRenderer(() => null));
    expect(Object.keys(bridge).sort()).toEqual([
      'appVersion',
      'hubInfo',
      'openDataFolder',
      'openFirmwareFile',
    ]);
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('turns a failed invoke into a coded result', async () => {
    const bridge = createBridge({
      invoke: () => Promise.reject(new Error('No handler registered')),
    });
    expect(await bridge.hubInfo()).toEqual({
      ok: false,
      error: { code: 500, message: 'No handler registered' },
    });
  });
});
