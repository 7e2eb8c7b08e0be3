import { describe, expect, it } from 'vitest';
import {
  linkableDevices,
  linkedDeviceCount,
  linkedKeys,
  toUnixSeconds,
  withKey,
} from '../../../src/renderer/lib/customer-devices';
import { qrMatrix, qrPath } from '../../../src/renderer/lib/qr-matrix';
import { withBuiltIn } from '../../../src/renderer/stores/apps-store';

const devices = [
  { id: 'd1', name: 'Lamp', publicKey: 'K1' },
  { id: 'd2', name: '', publicKey: 'K1' },
  { id: 'd3', name: 'Fan', publicKey: 'K3' },
  { id: 'd4', name: 'Off', publicKey: '' },
];

describe('customer devices (pubkeys matched to device ACL public keys)', () => {
  it('maps each key to the devices it opens; unknown keys open nothing', () => {
    const keys = linkedKeys({ K1: {}, GONE: {} }, devices);
    expect(keys.map((k) => [k.key, k.devices.map((d) => d.id)])).toEqual([
      ['K1', ['d1', 'd2']],
      ['GONE', []],
    ]);
    expect(linkedDeviceCount({ K1: {}, GONE: {} }, devices)).toBe(2);
    expect(linkableDevices({ K1: {} }, devices).map((d) => d.id)).toEqual(['d3']);
  });

  it('edits pubkeys whole, keeping per-key data', () => {
    const pk = { K1: { label: 'porch' } };
    expect(withKey(pk, 'K3', true)).toEqual({ K1: { label: 'porch' }, K3: {} });
    expect(withKey(pk, 'K1', true)).toEqual(pk);
    expect(withKey(pk, 'K1', false)).toEqual({});
    expect(pk).toEqual({ K1: { label: 'porch' } });
  });

  it('reads hub dates as Unix seconds', () => {
    expect(toUnixSeconds(1_700_000_000)).toBe(1_700_000_000);
    expect(toUnixSeconds(1_700_000_000_123)).toBe(1_700_000_000);
    expect(toUnixSeconds('2023-11-14 22:13:20')).toBe(1_700_000_000);
    expect(toUnixSeconds('2023-11-14T22:13:20Z')).toBe(1_700_000_000);
    expect(toUnixSeconds('nope')).toBe(0);
    expect(toUnixSeconds(null)).toBe(0);
  });

  it('lists the built-in app first and never twice', () => {
    const list = withBuiltIn([
      { app_id: 'old', created: 1 },
      { app_id: 'default', builtin: true, files: 5 },
      { app_id: 'new', created: 2 },
    ]);
    expect(list.map((a) => a.app_id)).toEqual(['default', 'new', 'old']);
    expect(list[0]).toMatchObject({ builtin: true, files: 5 });
    expect(withBuiltIn([]).map((a) => a.app_id)).toEqual(['default']);
  });

  it('draws a QR code in the page (no network)', () => {
    const m = qrMatrix('http://192.168.1.10:8009/a/default/?abcDEF123_-');
    expect(m.length).toBeGreaterThanOrEqual(21);
    expect(m.every((row) => row.length === m.length)).toBe(true);
    // Finder pattern: the top-left corner module is dark.
    expect(m[0]?.[0]).toBe(true);
    expect(qrPath([[true, false]])).toBe('M0 0h1v1h-1z');
  });
});
