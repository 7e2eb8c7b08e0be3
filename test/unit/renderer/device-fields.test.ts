import { describe, expect, it } from 'vitest';
import {
  deviceUrlFor,
  displayName,
  fwVersion,
  isLoopbackUrl,
} from '../../../src/renderer/lib/device-fields';
import type { DeviceObject, JsonObject } from '../../../src/shared/types';

const withReported = (reported: JsonObject): DeviceObject => ({
  id: 'd1',
  name: '',
  token: '',
  online: false,
  shadow: { state: { desired: {}, reported, delta: {} }, tags: {}, version: 0, timestamp: 0 },
  acl: {},
  created: 0,
  last_seen: 0,
});

describe('device-fields', () => {
  it('reads the firmware version Sys.GetInfo stored in reported.ota', () => {
    expect(fwVersion(withReported({ ota: { fw_version: '1.2.3' } }))).toBe('1.2.3');
    expect(fwVersion(withReported({ ota: { fw_version: 7 } }))).toBe('7');
    expect(fwVersion(withReported({ ota: 'weird' }))).toBe('');
    expect(fwVersion(withReported({}))).toBe('');
  });
  it('names a device by name, else id', () => {
    expect(displayName(withReported({}))).toBe('d1');
    expect(displayName({ ...withReported({}), name: 'Kitchen' })).toBe('Kitchen');
  });
  it('derives the device URL from the page origin', () => {
    expect(deviceUrlFor('http://192.168.1.5:8009')).toBe('ws://192.168.1.5:8009/api/v2/rpc');
    expect(deviceUrlFor('https://hub.lan')).toBe('wss://hub.lan/api/v2/rpc');
    expect(isLoopbackUrl('ws://127.0.0.1:8009/x')).toBe(true);
    expect(isLoopbackUrl('ws://localhost/x')).toBe(true);
    expect(isLoopbackUrl('ws://192.168.1.5/x')).toBe(false);
    expect(isLoopbackUrl('nonsense')).toBe(false);
  });
});
