import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/renderer/api/api-error';
import type { DataApi } from '../../../src/renderer/api/data-api';
import { createDeviceAclStore } from '../../../src/renderer/stores/device-acl-store';
import { createDeviceDataStore } from '../../../src/renderer/stores/device-data-store';
import type { DeviceAcl, DeviceObject } from '../../../src/shared/types';

const device = (acl: DeviceAcl): DeviceObject => ({
  id: 'd1',
  name: '',
  token: '',
  online: true,
  shadow: { state: { desired: {}, reported: {}, delta: {} }, tags: {}, version: 1, timestamp: 0 },
  acl,
  created: 0,
  last_seen: 0,
});

function storeWith(save: (acl: DeviceAcl) => Promise<DeviceObject>) {
  const sent: DeviceAcl[] = [];
  const api = {
    saveAcl: (_id: string, acl: DeviceAcl) => {
      sent.push(acl);
      return save(acl);
    },
  } as unknown as DataApi;
  return { store: createDeviceAclStore({ api: () => api, onUnauthorized: () => {} }), sent };
}

describe('device ACL store: form and raw JSON kept in sync', () => {
  it('a form edit rewrites the text; a parsed text edit refills the form', () => {
    const { store } = storeWith((acl) => Promise.resolve(device(acl)));
    const s = store.getState();
    s.open(device({ public_key: 'k', data_read: { q: 'SELECT 1' } }));
    s.setField('shadow_read', '^\\.state');
    expect(JSON.parse(store.getState().text)).toEqual({
      public_key: 'k',
      data_read: { q: 'SELECT 1' },
      shadow_read: '^\\.state',
    });
    s.setText('{"public_key":"z","rpc":["A","B"]}');
    expect(store.getState().form).toEqual({
      public_key: 'z',
      shadow_read: '',
      shadow_write: '',
      rpc: 'A, B',
    });
    expect(store.getState().draft).toEqual({ public_key: 'z', rpc: ['A', 'B'] });
  });

  it('broken JSON is flagged, keeps the last valid draft and blocks saving', async () => {
    const { store, sent } = storeWith((acl) => Promise.resolve(device(acl)));
    const s = store.getState();
    s.open(device({ rpc: '*' }));
    s.setText('{"rpc":');
    expect(store.getState().textError).toMatch(/^not JSON/);
    expect(store.getState().draft).toEqual({ rpc: '*' });
    expect(await s.save()).toBeNull();
    expect(sent).toEqual([]);
  });

  it('saves the draft whole and shows a refusal with its code', async () => {
    let refuse = true;
    const { store, sent } = storeWith((acl) =>
      refuse
        ? Promise.reject(new ApiError(4007, 400, 'acl.shadow_read: not an RE2 regex'))
        : Promise.resolve(device(acl)),
    );
    const s = store.getState();
    s.open(device({}));
    s.setField('shadow_read', '(');
    expect(await s.save()).toBeNull();
    expect(store.getState().saveError).toEqual({
      code: 4007,
      message: 'acl.shadow_read: not an RE2 regex',
    });
    expect(store.getState().dirty).toBe(true);
    refuse = false;
    s.setField('shadow_read', '^\\.state');
    expect(await s.save()).not.toBeNull();
    expect(sent[1]).toEqual({ shadow_read: '^\\.state' });
    expect(store.getState()).toMatchObject({ dirty: false, saveError: null });
    // A refresh of the same device keeps an unsaved draft, taking the data queries the Data tab
    // saved meanwhile.
    s.setField('rpc', 'X');
    s.open(device({ shadow_read: '^\\.state', data_read: { q: 'SELECT 2' } }));
    expect(store.getState().form.rpc).toBe('X');
    expect(store.getState().draft).toEqual({
      shadow_read: '^\\.state',
      rpc: 'X',
      data_read: { q: 'SELECT 2' },
    });
    expect(JSON.parse(store.getState().text)).toEqual(store.getState().draft);
  });
});

describe('device data store beside the ACL tab', () => {
  it('saves its drafted queries with the other ACL fields as stored now', async () => {
    const sent: DeviceAcl[] = [];
    const api = {
      saveAcl: (_id: string, acl: DeviceAcl) => {
        sent.push(acl);
        return Promise.resolve(device(acl));
      },
    } as unknown as DataApi;
    const store = createDeviceDataStore({ api: () => api, onUnauthorized: () => {} });
    const s = store.getState();
    s.open(device({ public_key: 'old' }));
    s.addEntry('data_read');
    s.setEntry('data_read', 0, { name: 'q', query: 'SELECT 1' });
    // The ACL tab saved a new key meanwhile; the device page refreshed.
    s.open(device({ public_key: 'new', shadow_read: 'x' }));
    await s.saveAcl();
    expect(sent[0]).toEqual({
      public_key: 'new',
      shadow_read: 'x',
      data_read: { q: 'SELECT 1' },
      data_write: {},
    });
  });
});
