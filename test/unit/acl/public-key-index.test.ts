/**
 * Devices by ACL `public_key` (devices/public-key-index.ts): resolved without a scan, kept in step
 * with ACL changes and deletes; an empty key is access off; a shared key names no device.
 */
import { describe, expect, it } from 'vitest';
import { PublicKeyIndex } from '../../../src/main/devices/public-key-index';

describe('PublicKeyIndex', () => {
  it('resolves a key to its device and follows changes and deletes', () => {
    const index = new PublicKeyIndex([
      { id: 'd1', acl: { public_key: 'k+1/=', rpc: '*' } },
      { id: 'd2', acl: {} },
    ]);
    expect(index.resolve('k+1/=')?.id).toBe('d1');
    expect(index.resolve('k 1/=')).toBeUndefined();
    expect(index.resolve('')).toBeUndefined();
    expect(index.resolve(null)).toBeUndefined();
    index.set('d1', { public_key: 'k2' });
    expect(index.resolve('k+1/=')).toBeUndefined();
    expect(index.resolve('k2')?.id).toBe('d1');
    index.set('d1', { public_key: '' });
    expect(index.resolve('k2')).toBeUndefined();
    index.set('d2', { public_key: 'k3' });
    index.set('d2', null);
    expect(index.resolve('k3')).toBeUndefined();
    expect(index.size).toBe(0);
  });

  it('a key two devices share resolves to neither until one lets go', () => {
    const index = new PublicKeyIndex();
    index.set('a', { public_key: 'same' });
    index.set('b', { public_key: 'same' });
    expect(index.resolve('same')).toBeUndefined();
    index.set('a', {});
    expect(index.resolve('same')?.id).toBe('b');
  });

  it('current() holds only while the device keeps the same key', () => {
    const index = new PublicKeyIndex([{ id: 'd', acl: { public_key: 'k' } }]);
    const entry = index.resolve('k');
    expect(entry).toBeDefined();
    if (!entry) return;
    expect(index.current('d', entry.digest)?.id).toBe('d');
    index.set('d', { public_key: 'other' });
    expect(index.current('d', entry.digest)).toBeUndefined();
  });
});
