/**
 * Devices as the API and the gateway see them: registry rows plus live presence, shadow changes
 * with their side effects (persist, notify `updated`, push `Shadow.Delta`; PROTOCOL.md 3), and
 * lifecycle notifications (`created`, `deleted`, `online`, `offline`; PROTOCOL.md 7).
 *
 * Shadows of devices in use are cached in memory so a change is applied synchronously, in event
 * loop order (no lost updates between concurrent writers), and persisted through the group
 * committer; callers await the commit before they acknowledge. Readers (REST, `Shadow.Get`,
 * notifications) see only what is committed (shadow-cache.ts, issue 7 item 6).
 */
import type { DeviceAcl, DeviceObject, Json, JsonObject, ShadowDoc } from '../../shared/types';
import { HubError } from '../../shared/errors';
import type { Store } from '../store/store';
import type { DeviceFields, DeviceMeta, DeviceRecord } from '../store/devices-repo';
import type { NotificationBus } from '../events/notification-bus';
import { randomId, randomToken } from '../store/secrets';
import { notifiedDevice } from '../../shared/device-list';
import { ShadowCache, type ShadowViews } from '../shadow/shadow-cache';
import {
  applyShadowUpdate,
  emptyShadow,
  replaceReportedSubtree,
  setReported,
  type ShadowResult,
} from '../shadow/shadow';
import { notifiedDeviceJson, notifiedDeviceOf } from './notified-device-json';

/** What the device service needs from the gateway, injected after both exist. */
export interface DeviceLink {
  isOnline(id: string): boolean;
  call(id: string, method: string, params: Json | undefined, timeoutMs?: number): Promise<Json>;
  disconnect(id: string, reason: string): void;
}

export interface DeviceServiceOptions {
  maxShadowBytes: number;
  onError: (err: unknown, context: string) => void;
}

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Row fields that commit in the same statement as a shadow write. */
type RowFields = Pick<DeviceFields, 'name' | 'acl' | 'last_seen'>;

export class DeviceService {
  private link: DeviceLink | null = null;
  private readonly shadows = new ShadowCache();
  private readonly lastSeenWritten = new Map<string, number>();
  private readonly infoListeners = new Set<(id: string, info: JsonObject) => void>();
  private readonly aclListeners = new Set<(id: string, acl: DeviceAcl | null) => void>();

  constructor(
    private readonly store: Store,
    private readonly bus: NotificationBus,
    private readonly opts: DeviceServiceOptions,
  ) {}

  setLink(link: DeviceLink): void {
    this.link = link;
  }

  isOnline(id: string): boolean {
    return this.link?.isOnline(id) ?? false;
  }

  private toObject(rec: DeviceRecord): DeviceObject {
    return {
      id: rec.id,
      name: rec.name,
      token: rec.token,
      online: this.onlineOf(rec.id, rec.shadow),
      shadow: this.shadows.committed(rec.id) ?? rec.shadow,
      acl: rec.acl,
      created: rec.created,
      last_seen: this.lastSeenOf(rec.id, rec.last_seen),
    };
  }

  private onlineOf(id: string, shadow: ShadowDoc): boolean {
    // Without a gateway (CLI on a data dir) the persisted flag is the best knowledge.
    return this.link ? this.link.isOnline(id) : shadow.state.reported['online'] === true;
  }

  private lastSeenOf(id: string, stored: number): number {
    return Math.max(stored, this.lastSeenWritten.get(id) ?? 0);
  }

  /**
   * Publishes `updated` after a shadow commit: what `notificationData(this.get(id))` would carry,
   * built from the row in memory and the committed shadow, with its JSON text made from the
   * shadow's own text, so the device is not copied nor encoded again (notified-device-json.ts,
   * issue 11).
   */
  private publishUpdated(id: string): void {
    const meta = this.store.devices.getMeta(id);
    const shadow = this.shadows.committed(id);
    if (meta === undefined || shadow === undefined) {
      this.bus.publish({ name: 'updated', id, data: this.notificationData(this.get(id)) });
      return;
    }
    const online = this.onlineOf(id, shadow);
    const lastSeen = this.lastSeenOf(id, meta.last_seen);
    const shadowJson = this.shadows.committedJson(id) ?? JSON.stringify(shadow);
    const data = notifiedDeviceOf(meta, online, shadow, lastSeen) as unknown as Json;
    this.bus.publish(
      { name: 'updated', id, data },
      notifiedDeviceJson(meta, online, shadowJson, lastSeen),
    );
  }

  /** Every device, oldest first; a cached shadow stands in for the stored text, unparsed. */
  list(): DeviceObject[] {
    return this.store.devices.listStored().map(({ meta, shadowJson }) =>
      this.toObject({
        ...meta,
        shadow: this.shadows.committed(meta.id) ?? (JSON.parse(shadowJson) as ShadowDoc),
      }),
    );
  }

  /** Every device's id, in no particular order; from memory. */
  ids(): string[] {
    return this.store.devices.ids();
  }

  get(id: string): DeviceObject {
    const rec = this.record(id);
    if (!rec) throw new HubError('device_not_found', `no device '${id}'`);
    return this.toObject(rec);
  }

  /** Throws device_not_found unless the device exists; from memory (the REST RPC path, issue 11). */
  assertExists(id: string): void {
    if (!this.exists(id)) {
      throw new HubError('device_not_found', `no device '${id}'`);
    }
  }

  /** Whether the device is registered; from memory. */
  exists(id: string): boolean {
    return this.store.devices.getMeta(id) !== undefined;
  }

  find(id: string): DeviceObject | undefined {
    const rec = this.record(id);
    return rec ? this.toObject(rec) : undefined;
  }

  /**
   * The registry row, with the cached shadow when there is one instead of a parse of the stored
   * copy (which the cache supersedes anyway). Every `updated` notification reads the device this
   * way, so it is on the path of every shadow change.
   */
  private record(id: string): DeviceRecord | undefined {
    const cached = this.shadows.committed(id);
    if (cached === undefined) return this.store.devices.get(id);
    const meta = this.store.devices.getMeta(id);
    return meta ? { ...meta, shadow: cached } : undefined;
  }

  /** Authenticates a device password (PROTOCOL.md 1). */
  byToken(token: string): DeviceMeta | undefined {
    return this.store.devices.byToken(token);
  }

  /** `token`: a given password (`fleetbench import`), unique among devices; else a random one. */
  create(input: { id?: string; name?: string; token?: string }): DeviceObject {
    const id = input.id ?? randomId('d');
    if (!DEVICE_ID_PATTERN.test(id)) {
      throw new HubError('validation_failed', 'id: use 1-64 letters, digits, "_", "." or "-"');
    }
    if (this.store.devices.get(id)) throw new HubError('device_exists', `device '${id}' exists`);
    // Passwords identify devices at login (PROTOCOL.md 1): two devices may never share one.
    if (input.token !== undefined && this.store.devices.byToken(input.token)) {
      throw new HubError('conflict', 'token: another device has this password');
    }
    const created = nowSec();
    const rec: DeviceRecord = {
      id,
      name: input.name ?? id,
      token: input.token ?? randomToken(),
      acl: {},
      shadow: emptyShadow(created),
      created,
      last_seen: 0,
    };
    this.store.devices.insert(rec);
    const obj = this.toObject(rec);
    this.bus.publish({ name: 'created', id, data: this.notificationData(obj) });
    return obj;
  }

  async update(
    id: string,
    patch: { name?: string; acl?: DeviceAcl; shadow?: unknown },
  ): Promise<DeviceObject> {
    const rec = this.store.devices.get(id);
    if (!rec) throw new HubError('device_not_found', `no device '${id}'`);
    // Validate the shadow first so a bad shadow changes nothing else either.
    const shadowResult = patch.shadow === undefined ? null : this.computeShadow(rec, patch.shadow);
    if (shadowResult && !shadowResult.ok) throw shadowResult.error;
    // Everything is checked above; the parts then commit in one transaction, all or nothing
    // (issue 7 item 10: a failing part once left the new name behind).
    const meta = {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.acl !== undefined && { acl: patch.acl }),
    };
    if (shadowResult?.ok && shadowResult.changed) {
      await this.commitShadow(id, shadowResult.doc, meta, shadowResult.json);
    } else if (meta.name !== undefined || meta.acl !== undefined) {
      await this.store.devices.update(id, meta);
    }
    if (meta.acl !== undefined) this.aclChanged(id, meta.acl);
    if (shadowResult?.ok && shadowResult.changed && shadowResult.desiredTouched) {
      this.pushDelta(id, shadowResult.doc);
    }
    const obj = this.get(id);
    this.bus.publish({ name: 'updated', id, data: this.notificationData(obj) });
    return obj;
  }

  remove(id: string): void {
    if (!this.store.devices.remove(id)) throw new HubError('device_not_found', `no device '${id}'`);
    this.shadows.forget(id);
    this.lastSeenWritten.delete(id);
    this.aclChanged(id, null);
    this.link?.disconnect(id, 'device deleted');
    this.bus.publish({ name: 'deleted', id, data: { id } });
  }

  /** The committed shadow: what a reader may see (REST GET, the device's `Shadow.Get`). */
  shadowOf(id: string): ShadowDoc {
    return this.loadShadow(id).committed;
  }

  /** The newest shadow, committed or not: what the next write builds on. */
  private latestShadow(id: string): ShadowDoc {
    return this.loadShadow(id).latest;
  }

  /**
   * The cached views, caching the stored shadow first if needed. Uncached means no write of it
   * is in flight (the cache forgets only idle or deleted devices): the stored copy is committed.
   */
  private loadShadow(id: string): ShadowViews {
    const cached = this.shadows.views(id);
    if (cached !== undefined) return cached;
    const shadow = this.store.devices.shadow(id);
    if (!shadow) throw new HubError('device_not_found', `no device '${id}'`);
    return this.shadows.load(id, shadow);
  }

  /**
   * Applies a client or device shadow update (PROTOCOL.md 3) and resolves with the new document
   * once it is committed; rejects with a coded HubError (validation, 409 version, 413 size).
   */
  async updateShadow(id: string, update: unknown): Promise<ShadowDoc> {
    const result = applyShadowUpdate(this.latestShadow(id), update, {
      nowSec: nowSec(),
      maxBytes: this.opts.maxShadowBytes,
    });
    return this.finishShadow(id, result);
  }

  /** Hub-owned reported fields such as `online` (PROTOCOL.md 3 reserved keys). */
  async setReported(id: string, patch: JsonObject): Promise<ShadowDoc> {
    const result = setReported(this.latestShadow(id), patch, nowSec(), this.opts.maxShadowBytes);
    return this.finishShadow(id, result);
  }

  /**
   * Replaces `reported.<key>` wholesale (the Sys.GetInfo result as `reported.ota`); `acl`, when
   * given, is stored in the same statement (session step 2 learning the device's public key).
   */
  async replaceReported(id: string, key: string, value: Json, acl?: DeviceAcl): Promise<ShadowDoc> {
    const result = replaceReportedSubtree(
      this.latestShadow(id),
      key,
      value,
      nowSec(),
      this.opts.maxShadowBytes,
    );
    const doc = await this.finishShadow(id, result, acl === undefined ? {} : { acl });
    if (key === 'ota' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const l of this.infoListeners) l(id, value);
    }
    return doc;
  }

  /**
   * Told each time a device's Sys.GetInfo (session step 2) is committed as `reported.ota`: OTA
   * learns from it that a device came back after `OTA.End`, and with which fw_id (PROTOCOL.md 6).
   */
  onInfoStored(listener: (id: string, info: JsonObject) => void): () => void {
    this.infoListeners.add(listener);
    return () => void this.infoListeners.delete(listener);
  }

  /** Calls a method on an online device (the gateway's call path); 503 without a gateway. */
  call(id: string, method: string, params?: Json, timeoutMs?: number): Promise<Json> {
    if (!this.link) {
      return Promise.reject(new HubError('device_offline', `device '${id}' is offline`));
    }
    return this.link.call(id, method, params, timeoutMs);
  }

  async setOnline(id: string, online: boolean): Promise<void> {
    const now = nowSec();
    this.lastSeenWritten.set(id, now);
    // `last_seen` rides in the shadow's own UPDATE: one statement per login and logout, not two.
    const result = setReported(this.latestShadow(id), { online }, now, this.opts.maxShadowBytes);
    await this.finishShadow(id, result, { last_seen: now });
    this.bus.publish({ name: online ? 'online' : 'offline', id, data: { online } });
    this.store.account
      .insertData(id, online ? 'online' : 'offline', JSON.stringify({ online }))
      .catch((err) => this.opts.onError(err, 'account event'));
  }

  /** Records that the device was heard from; written at most every 30 s unless forced. */
  touch(id: string, force = false): void {
    const now = nowSec();
    const last = this.lastSeenWritten.get(id) ?? 0;
    if (!force && now - last < 30) return;
    this.lastSeenWritten.set(id, now);
    this.store.devices.setLastSeen(id, now).catch((err) => this.opts.onError(err, 'last_seen'));
  }

  async setAcl(id: string, acl: DeviceAcl): Promise<void> {
    await this.store.devices.setAcl(id, acl);
    this.aclChanged(id, acl);
  }

  /**
   * Told each time a device's ACL is stored (null: the device was deleted): the device public
   * API keeps its in-memory index of public keys in step (devices/public-key-index.ts).
   */
  onAclChanged(listener: (id: string, acl: DeviceAcl | null) => void): () => void {
    this.aclListeners.add(listener);
    return () => void this.aclListeners.delete(listener);
  }

  private aclChanged(id: string, acl: DeviceAcl | null): void {
    for (const l of this.aclListeners) l(id, acl);
  }

  /**
   * Forgets the cached shadow of a device that went offline, so the cache stays bounded by the
   * devices in use; never while a write of it is still queued (the disk copy would be older).
   */
  evictIfIdle(id: string): void {
    this.shadows.evictIfIdle(id);
  }

  private computeShadow(rec: DeviceRecord, update: unknown): ShadowResult {
    return applyShadowUpdate(this.shadows.latest(rec.id) ?? rec.shadow, update, {
      nowSec: nowSec(),
      maxBytes: this.opts.maxShadowBytes,
    });
  }

  /**
   * Commits a shadow change with the row fields `meta` in one statement (they are written alone
   * when the shadow did not change), then tells: `updated`, the ACL listeners, `Shadow.Delta`.
   */
  private async finishShadow(
    id: string,
    result: ShadowResult,
    meta: RowFields = {},
  ): Promise<ShadowDoc> {
    if (!result.ok) throw result.error;
    if (!result.changed) {
      // The row fields alone (`update` writes nothing when there are none).
      await this.store.devices.update(id, meta);
      if (meta.acl !== undefined) this.aclChanged(id, meta.acl);
      return result.doc;
    }
    // Deleted meanwhile (maybe created again): the write was the old device's; nothing to tell.
    if (!(await this.commitShadow(id, result.doc, meta, result.json))) return result.doc;
    if (meta.acl !== undefined) this.aclChanged(id, meta.acl);
    if (result.desiredTouched) this.pushDelta(id, result.doc);
    this.publishUpdated(id);
    return result.doc;
  }

  /**
   * `meta`: other fields of the device that commit in the same transaction as the shadow.
   * Resolves false when the device was deleted while the write was in flight. `json`: the text of
   * `doc` when the shadow core made it, which the row and the `updated` notification reuse.
   */
  private async commitShadow(
    id: string,
    doc: ShadowDoc,
    meta: RowFields = {},
    json?: string,
  ): Promise<boolean> {
    this.loadShadow(id);
    // Writers build on `doc` from now on; readers see it once it is on disk (settle below, before
    // the caller replies or publishes `updated`). A failed commit leaves them the previous one.
    const write = this.shadows.begin(id, doc, json);
    try {
      await this.store.devices.update(id, { ...meta, shadow: doc, shadowJson: json });
    } catch (err) {
      this.shadows.settle(write, false);
      throw err;
    }
    return this.shadows.settle(write, true);
  }

  /**
   * What `created` / `updated` carry (PROTOCOL.md 3, 7): the device object without its `token`.
   * Notifications reach every subscriber and stay in the log for days; the password does not
   * belong there (README "Notifications").
   */
  private notificationData(device: DeviceObject): Json {
    return notifiedDevice(device) as unknown as Json;
  }

  /** Sends the delta to an online device (PROTOCOL.md 3); devices may not answer, and that is fine. */
  pushDelta(id: string, doc: ShadowDoc): void {
    if (!this.link?.isOnline(id) || Object.keys(doc.state.delta).length === 0) return;
    const params: Json = { state: doc.state.delta, version: doc.version, timestamp: doc.timestamp };
    this.link.call(id, 'Shadow.Delta', params).catch(() => undefined);
  }
}
