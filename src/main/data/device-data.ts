/**
 * The device side of data storage (PROTOCOL.md 2 and 5), in one object the gateway owns:
 * `DB.Store`, `DB.Save`, `DB.NewData` and the spool drain of session step 5, the quotas, the
 * optional retention sweep, and the counters shown in the hub status (`data`).
 */
import Type from 'typebox';
import type { DeviceAcl, Json } from '../../shared/types';
import { HubError } from '../../shared/errors';
import type { DataLimits } from '../config';
import type { AccountDb } from '../store/account-db';
import { firstProblem } from '../validate';
import { DataStats } from './data-stats';
import { DataWriter } from './data-writer';
import { DataRetention } from './data-retention';
import { SpoolDrainer, type DrainPeer } from './spool-drain';

/** `DB.Store ["<query-name>", p1, p2, ..]`: the first item is checked apart (a string). */
const StoreParams = Type.Array(Type.Unknown(), { minItems: 1 });

export interface DeviceDataDeps {
  account: AccountDb;
  limits: DataLimits;
  acl(deviceId: string): DeviceAcl;
  /**
   * Calls `changed(id)` whenever a device may have a new ACL (created, updated, deleted); returns
   * the unsubscribe. The ACLs used by DB.Store are cached until then.
   */
  onDeviceChange?(changed: (deviceId: string) => void): () => void;
  publish(name: string, deviceId: string, data: Json): void;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** Id-less failures logged per minute at most (each is counted regardless). */
const DROP_LOGS_PER_MINUTE = 60;
/** ACLs cached for DB.Store; past this many the oldest go (a registry read brings one back). */
const ACL_CACHE_MAX = 20_000;

export class DeviceData {
  readonly stats = new DataStats();
  readonly writer: DataWriter;
  readonly drainer: SpoolDrainer;
  readonly retention: DataRetention;
  private dropLogs = 0;
  private dropWindow = 0;
  /**
   * Reading the ACL from the registry for every row was an eighth of the hub's time at 10,000
   * rows/s (bench/RESULTS.md, data ingest): it is cached, and forgotten when the device changes.
   * Without a change feed nothing is cached.
   */
  private readonly acls = new Map<string, DeviceAcl>();
  private readonly unwatch: (() => void) | null;

  constructor(private readonly deps: DeviceDataDeps) {
    const { limits } = deps;
    this.writer = new DataWriter(
      deps.account,
      {
        maxRowsPerDevice: limits.maxRowsPerDevice,
        maxAccountDbBytes: limits.maxAccountDbBytes,
        statementCacheSize: limits.statementCacheSize,
      },
      this.stats,
    );
    this.drainer = new SpoolDrainer({
      writer: this.writer,
      stats: this.stats,
      acl: (id) => this.aclOf(id),
      publish: deps.publish,
      log: deps.log,
      chunkBytes: Math.min(limits.drainChunkBytes, 4096),
      maxFileBytes: limits.maxSpoolFileBytes,
    });
    this.retention = new DataRetention(
      deps.account,
      {
        maxAgeMs: limits.retentionMaxAgeMs,
        sweepIntervalMs: limits.retentionSweepIntervalMs,
        batchRows: limits.retentionBatchRows,
      },
      this.stats,
      (err) => deps.log.warn({ err }, 'data retention sweep failed'),
    );
    this.retention.start();
    this.unwatch = deps.onDeviceChange?.((id) => this.acls.delete(id)) ?? null;
  }

  /** The device's ACL, from the cache when there is a change feed to keep it true. */
  private aclOf(deviceId: string): DeviceAcl {
    if (this.unwatch === null) return this.deps.acl(deviceId);
    let acl = this.acls.get(deviceId);
    if (acl === undefined) {
      acl = this.deps.acl(deviceId);
      if (this.acls.size >= ACL_CACHE_MAX) {
        const oldest = this.acls.keys().next().value;
        if (oldest !== undefined) this.acls.delete(oldest);
      }
      this.acls.set(deviceId, acl);
    }
    return acl;
  }

  /**
   * `DB.Store`: resolves `true` once the row is durable. With an id a failure rejects with its
   * catalog error (the session replies with it); without one it is a counted, logged drop.
   */
  async store(deviceId: string, params: Json | undefined, hasId: boolean): Promise<Json> {
    return this.guard(deviceId, 'DB.Store', hasId, async () => {
      const problem = firstProblem(StoreParams, params);
      const list = params as Json[];
      if (problem !== null || typeof list[0] !== 'string') {
        throw new HubError(
          'validation_failed',
          'DB.Store params must be ["<query-name>", p1, p2, ..]',
        );
      }
      await this.writer.store(deviceId, this.aclOf(deviceId), list[0], list.slice(1));
    });
  }

  /** `DB.Save`: one `data` row, under the same quotas. */
  async save(deviceId: string, params: Json | undefined, hasId: boolean): Promise<Json> {
    return this.guard(deviceId, 'DB.Save', hasId, () => this.writer.save(deviceId, params ?? null));
  }

  /** Session step 5 and `DB.NewData`: drain the spool (one drain per device at a time). */
  drain(peer: DrainPeer): Promise<void> {
    return this.drainer.trigger(peer);
  }

  async close(): Promise<void> {
    this.unwatch?.();
    await this.retention.stop();
  }

  private async guard(
    deviceId: string,
    method: string,
    hasId: boolean,
    fn: () => Promise<void>,
  ): Promise<Json> {
    try {
      await fn();
      return true;
    } catch (err) {
      if (hasId) throw err;
      const e = err instanceof HubError ? err : new HubError('internal', String(err));
      this.stats.drop(e.kind);
      const now = Date.now();
      if (now - this.dropWindow > 60_000) {
        this.dropWindow = now;
        this.dropLogs = 0;
      }
      if (this.dropLogs++ < DROP_LOGS_PER_MINUTE) {
        this.deps.log.warn(
          { device: deviceId, method, code: e.code, err: e.message },
          'device write dropped (no id to answer)',
        );
      }
      return true;
    }
  }
}
