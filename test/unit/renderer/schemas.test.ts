import { describe, expect, it } from 'vitest';
import {
  readDevice,
  readErrorBody,
  readNotification,
  readShadow,
} from '../../../src/renderer/api/schemas';

describe('renderer response schemas', () => {
  it('normalizes a device with absent optional parts', () => {
    const d = readDevice({ id: 'x', shadow: { state: { reported: { a: 1 } }, version: 3 } });
    expect(d).toEqual({
      id: 'x',
      name: '',
      token: '',
      online: false,
      shadow: {
        state: { desired: {}, reported: { a: 1 }, delta: {} },
        tags: {},
        version: 3,
        timestamp: 0,
      },
      acl: {},
      created: 0,
      last_seen: 0,
    });
  });

  it('refuses what the dashboard cannot use', () => {
    expect(readDevice(null)).toBeNull();
    expect(readDevice({ id: '' })).toBeNull();
    expect(readDevice({ id: 'x', online: 'yes' })).toBeNull();
    expect(readDevice({ id: 'x', shadow: { state: {}, version: 'one' } })).toBeNull();
    expect(readShadow({ state: { desired: [] }, version: 1 })).toBeNull();
    expect(readErrorBody({ error: { code: '4091', message: 'x' } })).toBeNull();
    expect(readErrorBody({ error: { code: 4091, message: 'conflict' } })).toEqual({
      code: 4091,
      message: 'conflict',
    });
  });

  it('reads notifications and normalizes device objects inside lifecycle events', () => {
    expect(readNotification({ name: 'rpc.out.Log', id: 'd', data: { fd: 1, data: 'x' } })).toEqual({
      name: 'rpc.out.Log',
      id: 'd',
      data: { fd: 1, data: 'x' },
    });
    const n = readNotification({ name: 'updated', data: { id: 'd2', name: 'n' } });
    expect(n?.id).toBe('d2');
    expect((n?.data as { online: boolean }).online).toBe(false);
    expect(readNotification({ id: 'd' })).toBeNull();
    expect(readNotification('online')).toBeNull();
    expect(readNotification({ name: 'online', id: 'd' })).toEqual({
      name: 'online',
      id: 'd',
      data: null,
    });
  });
});
