import { describe, expect, it } from 'vitest';
import { desktopClient } from '../../../src/renderer/api/desktop';
import { ApiError } from '../../../src/renderer/api/api-error';
import type { BridgeResult, DesktopBridge } from '../../../src/shared/desktop-bridge';

const ok = <T>(value: T): Promise<BridgeResult<T>> => Promise.resolve({ ok: true, value });

function bridge(
  overrides: Partial<Record<keyof DesktopBridge, () => Promise<unknown>>> = {},
): object {
  return {
    hubInfo: () =>
      ok({
        url: 'http://127.0.0.1:8009',
        dashboard: 'http://127.0.0.1:8009/',
        deviceUrl: 'ws://10.0.0.2:8009/api/v2/rpc',
        key: 'k',
      }),
    appVersion: () => ok({ app: '0.1.0', electron: '40', chrome: '1', node: '20' }),
    openDataFolder: () => ok(true),
    openFirmwareFile: () => ok({ canceled: true }),
    ...overrides,
  };
}

describe('desktopClient', () => {
  it('is null in a browser (no bridge, or something else under that name)', () => {
    expect(desktopClient({})).toBeNull();
    expect(desktopClient({ fleetbench: { hubInfo: 1 } })).toBeNull();
  });

  it('unwraps results and validates them', async () => {
    const c = desktopClient({ fleetbench: bridge() })!;
    expect((await c.hubInfo()).deviceUrl).toBe('ws://10.0.0.2:8009/api/v2/rpc');
    expect((await c.appVersion()).app).toBe('0.1.0');
    await expect(c.openDataFolder()).resolves.toBeUndefined();
    expect(await c.openFirmwareFile()).toEqual({ canceled: true });
  });

  it('turns bridge failures and malformed answers into coded errors', async () => {
    const c = desktopClient({
      fleetbench: bridge({
        hubInfo: () => ok({ url: 'x' }),
        openDataFolder: () => Promise.resolve({ ok: false, error: { code: 403, message: 'nope' } }),
        appVersion: () => Promise.resolve('garbage'),
      }),
    })!;
    await expect(c.hubInfo()).rejects.toBeInstanceOf(ApiError);
    await expect(c.openDataFolder()).rejects.toMatchObject({ code: 403, message: 'nope' });
    await expect(c.appVersion()).rejects.toMatchObject({ code: 500 });
  });
});
