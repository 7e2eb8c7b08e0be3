/**
 * Devices by their ACL `public_key` (PROTOCOL.md 4, 8), in memory: the device public API resolves
 * its caller on every request and must not scan the registry for it. Built once at start, then
 * kept in step by the device service's ACL and delete events.
 *
 * Keys are indexed by their SHA-256 digest: the lookup hashes the presented key and compares
 * fixed-length digests (the last compare in constant time), so response timing says nothing
 * about how much of a guessed key was right. A key two devices share resolves to neither: it
 * names no one device.
 */
import { timingSafeEqual } from 'node:crypto';
import type { DeviceAcl } from '../../shared/types';
import { compileAcl, type CompiledAcl } from '../../shared/acl/device-acl';
import { hashSecret } from '../store/secrets';

export interface KeyedDevice {
  id: string;
  acl: DeviceAcl;
  /** The ACL compiled once per change, not per request. */
  compiled: CompiledAcl;
  /** Digest of the key this entry was resolved by (streams re-check it). */
  digest: Buffer;
}

export class PublicKeyIndex {
  /** digest (hex) -> device ids holding that key. */
  private readonly byDigest = new Map<string, Set<string>>();
  /** device id -> its indexed entry. */
  private readonly byId = new Map<string, KeyedDevice>();

  constructor(devices: Iterable<{ id: string; acl: DeviceAcl }> = []) {
    for (const d of devices) this.set(d.id, d.acl);
  }

  /** Records the device's current ACL (null: deleted). */
  set(id: string, acl: DeviceAcl | null): void {
    const old = this.byId.get(id);
    if (old) {
      const hex = old.digest.toString('hex');
      const ids = this.byDigest.get(hex);
      ids?.delete(id);
      if (ids?.size === 0) this.byDigest.delete(hex);
      this.byId.delete(id);
    }
    const key = acl?.public_key;
    if (acl === null || typeof key !== 'string' || key === '') return;
    const digest = hashSecret(key);
    this.byId.set(id, { id, acl, compiled: compileAcl(acl), digest });
    const hex = digest.toString('hex');
    let ids = this.byDigest.get(hex);
    if (!ids) this.byDigest.set(hex, (ids = new Set()));
    ids.add(id);
  }

  /** The one device whose public key `key` is, or undefined. */
  resolve(key: string | null): KeyedDevice | undefined {
    if (key === null || key === '') return undefined;
    const digest = hashSecret(key);
    const ids = this.byDigest.get(digest.toString('hex'));
    if (ids === undefined || ids.size !== 1) return undefined;
    const [id] = ids;
    const entry = id === undefined ? undefined : this.byId.get(id);
    return entry && timingSafeEqual(entry.digest, digest) ? entry : undefined;
  }

  /** The entry of device `id` while it still holds the key with this digest. */
  current(id: string, digest: Buffer): KeyedDevice | undefined {
    const entry = this.byId.get(id);
    return entry && timingSafeEqual(entry.digest, digest) ? entry : undefined;
  }

  get size(): number {
    return this.byId.size;
  }
}
