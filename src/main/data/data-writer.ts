/**
 * Device writes into the account database (PROTOCOL.md 5): `DB.Store` (one ACL `data_write`
 * query), `DB.Save` (one `data` row) and a drained spool file (every line in ONE transaction).
 * Every write goes through the account database's group committer, so a caller learns of its
 * outcome only after the COMMIT holding it is durable: a device is answered `true` only for a
 * row on disk.
 *
 * Quotas: the per-device rows quota (row-quota.ts) is checked inside the write's transaction,
 * right before its statement, and the database size cap is `PRAGMA max_page_count` on the hub's
 * connection. A write past the cap fails with SQLITE_FULL, which may roll back the whole
 * transaction (https://sqlite.org/lang_transaction.html); the committer then rejects every write
 * of that batch (group-commit.ts), so nothing is acknowledged that was not committed and no batch
 * is half-written. Such a failure is reported as `account_db_full` when the cap, not the disk,
 * is what is full.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Statement } from 'better-sqlite3';
import type { DeviceAcl, Json } from '../../shared/types';
import { HubError } from '../../shared/errors';
import type { Db } from '../store/database';
import type { AccountDb } from '../store/account-db';
import { resolveAclQuery } from '../../shared/acl-query';
import { checkSql } from './sql-guard';
import { bindParams } from './bind-params';
import { RowQuota } from './row-quota';
import { StatementCache } from './statement-cache';
import type { DataStats } from './data-stats';
import type { SpoolRecord } from './spool-lines';

export interface DataWriterOptions {
  maxRowsPerDevice: number;
  /** 0 = no cap. */
  maxAccountDbBytes: number;
  statementCacheSize: number;
}

/** What a drained file's transaction did. */
export interface BatchOutcome {
  rows: number;
  skipped: { line: number; reason: string }[];
}

type AnyStatement = Statement<unknown[], unknown>;

export class DataWriter {
  private readonly db: Db;
  private readonly statements: StatementCache<AnyStatement>;
  private readonly quota: RowQuota;
  private readonly saveStmt: AnyStatement;
  private readonly pageCount: () => number;
  private readonly pageSize: number;

  constructor(
    private readonly account: AccountDb,
    private readonly opts: DataWriterOptions,
    private readonly stats: DataStats,
  ) {
    this.db = account.db;
    const db = this.db;
    // ACL queries run on the hub's own connection: the SQL API's guard applies to them too (an
    // ATTACH in a data_write would otherwise reach the registry next to the account database).
    this.statements = new StatementCache(opts.statementCacheSize, (sql) => {
      checkSql(sql);
      return db.prepare(sql);
    });
    this.quota = new RowQuota(db, opts.maxRowsPerDevice);
    this.saveStmt = db.prepare('INSERT INTO data (device_id, topic, message) VALUES (?, ?, ?)');
    this.pageSize = Number(db.pragma('page_size', { simple: true }));
    const pc = db.prepare('PRAGMA page_count').pluck();
    this.pageCount = () => Number(pc.get());
    if (opts.maxAccountDbBytes > 0) {
      // Per connection: set on the hub's own one, which every device write uses. SQLite keeps it
      // at least the current size, so a database already past the cap takes no more pages.
      db.pragma(
        `max_page_count = ${Math.max(1, Math.floor(opts.maxAccountDbBytes / this.pageSize))}`,
      );
    }
  }

  /** `DB.Store ["<name>", p1, ..]`: runs the ACL's `data_write[name]`; resolves once durable. */
  async store(
    deviceId: string,
    acl: DeviceAcl,
    name: string,
    params: readonly Json[],
  ): Promise<void> {
    const stmt = this.prepare(deviceId, acl, name);
    const values = bindParams(params);
    const quota = this.quota;
    try {
      await this.account.writeStatement({
        run() {
          quota.admit(deviceId);
          quota.added(deviceId, stmt.run(...values).changes);
        },
      });
    } catch (err) {
      throw this.mapped(err, name);
    }
    this.stats.rowsStored++;
  }

  /** `DB.Save <any JSON>`: one row of `data` with topic "data" (PROTOCOL.md 2). */
  async save(deviceId: string, message: Json): Promise<void> {
    const text = JSON.stringify(message);
    const { quota, saveStmt } = this;
    try {
      await this.account.writeStatement({
        run() {
          quota.admit(deviceId);
          quota.added(deviceId, saveStmt.run(deviceId, 'data', text).changes);
        },
      });
    } catch (err) {
      throw this.mapped(err, 'DB.Save');
    }
    this.stats.rowsStored++;
  }

  /**
   * Every record of one spool file in ONE transaction (PROTOCOL.md 5). A record naming an unknown
   * query, failing its SQL or over the quota is skipped and reported, never stops the rest. A
   * full database fails the whole file: nothing of it is stored, and the file stays on the device.
   */
  async storeBatch(
    deviceId: string,
    acl: DeviceAcl,
    records: readonly SpoolRecord[],
  ): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { rows: 0, skipped: [] };
    const db = this.db;
    try {
      await this.account.write(() => {
        // Filled afresh at each run: a batch put back by the committer (the lock was busy) runs
        // its jobs again.
        outcome.rows = 0;
        outcome.skipped = [];
        for (const r of records) {
          try {
            const stmt = this.prepare(deviceId, acl, r.name);
            this.quota.admit(deviceId);
            this.quota.added(deviceId, stmt.run(...bindParams(r.params)).changes);
            outcome.rows++;
          } catch (err) {
            // The database is full, or the transaction is gone: the whole file fails.
            if (!db.inTransaction || isFull(err)) throw err;
            const e = this.mapped(err, r.name);
            outcome.skipped.push({ line: r.line, reason: e.message });
          }
        }
      });
    } catch (err) {
      throw this.mapped(err, 'spool');
    }
    this.stats.rowsStored += outcome.rows;
    return outcome;
  }

  /** The prepared statement of the ACL's `data_write[name]`, or a coded error. */
  private prepare(deviceId: string, acl: DeviceAcl, name: string): AnyStatement {
    const sql = resolveAclQuery(acl, 'data_write', name, { deviceId, customerId: '' });
    if (sql === null) {
      throw new HubError('data_query_unknown', `the device ACL has no data_write query '${name}'`);
    }
    try {
      return this.statements.get(sql);
    } catch (err) {
      throw new HubError('data_write_failed', `data_write '${name}': ${messageOf(err)}`);
    }
  }

  /** Catalog error for a failed write: SQL and binding errors, the size cap, quota as thrown. */
  private mapped(err: unknown, name: string): HubError {
    if (err instanceof HubError) {
      if (err.kind === 'storage_full') {
        this.quota.reset();
        if (this.capIsFull()) {
          return new HubError(
            'account_db_full',
            `the account database reached its size cap (${this.opts.maxAccountDbBytes} bytes): nothing was stored`,
          );
        }
      }
      if (err.kind === 'storage_failed') this.quota.reset();
      return err;
    }
    if (isFull(err)) return this.mapped(new HubError('storage_full', messageOf(err)), name);
    // SqliteError (constraint, no such table), RangeError (parameter count), TypeError (values).
    return new HubError('data_write_failed', `data_write '${name}': ${messageOf(err)}`);
  }

  /**
   * Whether a SQLITE_FULL came from the cap: the disk still has room for everything up to the
   * cap, so only `max_page_count` can have refused the pages.
   */
  private capIsFull(): boolean {
    if (this.opts.maxAccountDbBytes <= 0 || this.db.memory) return false;
    const headroom = this.opts.maxAccountDbBytes - this.pageCount() * this.pageSize;
    try {
      const fs = statfsSync(dirname(this.db.name));
      return fs.bavail * fs.bsize > headroom + 1024 * 1024;
    } catch {
      return headroom < 1024 * 1024;
    }
  }
}

function isFull(err: unknown): boolean {
  if (err instanceof HubError) return err.kind === 'storage_full';
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
