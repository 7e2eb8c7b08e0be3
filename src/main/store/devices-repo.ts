/**
 * The device registry table (PROTOCOL.md 4 device object minus the live `online` flag, which the
 * gateway owns). Reads are synchronous; writes go through the group committer so callers can
 * await durability. Insert and delete run in the committer's order too (`writeNow`): after every
 * write queued before them, so a shadow write queued for a deleted device can never land on a new
 * device with the same id (issue 7 item 3).
 */
import type { Db } from './database';
import type { GroupCommitter } from './group-commit';
import type { DeviceAcl, ShadowDoc } from '../../shared/types';
import { hashSecret, secretsEqual } from './secrets';
import { OutsideWrites } from './outside-writes';

export interface DeviceRecord {
  id: string;
  name: string;
  token: string;
  acl: DeviceAcl;
  shadow: ShadowDoc;
  created: number;
  last_seen: number;
}

/** A registry row without its shadow, for callers that hold the current shadow already. */
export type DeviceMeta = Omit<DeviceRecord, 'shadow'>;

interface MetaRow {
  id: string;
  name: string;
  token: string;
  acl: string;
  created: number;
  last_seen: number;
}

interface Row {
  id: string;
  name: string;
  token: string;
  acl: string;
  shadow: string;
  created: number;
  last_seen: number;
}

function fromRow(row: Row): DeviceRecord {
  return {
    id: row.id,
    name: row.name,
    token: row.token,
    acl: JSON.parse(row.acl) as DeviceAcl,
    shadow: JSON.parse(row.shadow) as ShadowDoc,
    created: row.created,
    last_seen: row.last_seen,
  };
}

function metaFromRow(row: MetaRow): DeviceMeta {
  return {
    id: row.id,
    name: row.name,
    token: row.token,
    acl: JSON.parse(row.acl) as DeviceAcl,
    created: row.created,
    last_seen: row.last_seen,
  };
}

const COLUMNS = 'id, name, token, acl, shadow, created, last_seen';
const META_COLUMNS = 'id, name, token, acl, created, last_seen';

export class DevicesRepo {
  private readonly stmts;
  /**
   * Rows without their shadow, by id, for the per-call path (issue 11: a SQLite read of the row
   * per REST RPC was 8% of the hub's CPU at 10k devices). Filled on read; an entry is dropped
   * when a write to it is queued AND when that write settles, so the map never holds a value
   * the table no longer has once the write is done (a failed write is dropped with it too).
   * Writes of other connections (the CLI on a running hub) clear the map via `data_version`.
   */
  private readonly metaCache = new Map<string, MetaRow>();
  private dataVersion = -1;

  constructor(
    private readonly db: Db,
    private readonly committer: GroupCommitter,
    private readonly outside: OutsideWrites = new OutsideWrites(db),
  ) {
    this.stmts = {
      get: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM devices WHERE id = ?`),
      getMeta: db.prepare<[string], MetaRow>(`SELECT ${META_COLUMNS} FROM devices WHERE id = ?`),
      byHash: db.prepare<[Buffer], MetaRow>(
        `SELECT ${META_COLUMNS} FROM devices WHERE token_hash = ?`,
      ),
      all: db.prepare<[], Row>(`SELECT ${COLUMNS} FROM devices ORDER BY created, id`),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM devices'),
      insert: db.prepare(
        `INSERT INTO devices (id, name, token, token_hash, acl, shadow, created, last_seen)
         VALUES (@id, @name, @token, @token_hash, @acl, @shadow, @created, @last_seen)`,
      ),
      rename: db.prepare<[string, string]>('UPDATE devices SET name = ? WHERE id = ?'),
      setAcl: db.prepare<[string, string]>('UPDATE devices SET acl = ? WHERE id = ?'),
      setShadow: db.prepare<[string, string]>('UPDATE devices SET shadow = ? WHERE id = ?'),
      setLastSeen: db.prepare<[number, string]>('UPDATE devices SET last_seen = ? WHERE id = ?'),
      remove: db.prepare<[string]>('DELETE FROM devices WHERE id = ?'),
      markedOnline: db
        .prepare<[], string>(
          `SELECT id FROM devices WHERE json_valid(shadow)
             AND json_extract(shadow, '$.state.reported.online') IS 1`,
        )
        .pluck(),
    };
  }

  get(id: string): DeviceRecord | undefined {
    const row = this.stmts.get.get(id);
    return row ? fromRow(row) : undefined;
  }

  /**
   * The row without its shadow, for a caller that has the current shadow cached and would parse
   * the stored copy (up to 8 KB) only to throw it away.
   */
  getMeta(id: string): DeviceMeta | undefined {
    this.syncOutsideWrites();
    // The row as SQLite gave it: each caller gets its own parse of the ACL, as before.
    let row = this.metaCache.get(id);
    if (!row) {
      row = this.stmts.getMeta.get(id);
      if (!row) return undefined;
      this.metaCache.set(id, row);
    }
    return metaFromRow(row);
  }

  /** Clears `metaCache` when another connection committed (the CLI on a running hub). */
  private syncOutsideWrites(): void {
    const version = this.outside.current();
    if (version !== this.dataVersion) {
      this.metaCache.clear();
      this.dataVersion = version;
    }
  }

  /** Drops the cached row now and once `write` settled (see `metaCache`). */
  private metaWrite(id: string, write: Promise<void>): Promise<void> {
    this.metaCache.delete(id);
    const drop = (): void => void this.metaCache.delete(id);
    write.then(drop, drop);
    return write;
  }

  /**
   * Finds the device whose password this is (PROTOCOL.md 1 auth), comparing in constant time.
   * Without the shadow, which a login does not need (parsing up to 8 KB of it per connect was
   * part of the 10k storm's cost, issue 11); the row is kept in `metaCache`, where the session
   * steps that follow the login read it instead of querying again.
   */
  byToken(token: string): DeviceMeta | undefined {
    const row = this.stmts.byHash.get(hashSecret(token));
    if (!row || !secretsEqual(row.token, token)) return undefined;
    this.syncOutsideWrites();
    this.metaCache.set(row.id, row);
    return metaFromRow(row);
  }

  list(): DeviceRecord[] {
    return this.stmts.all.all().map(fromRow);
  }

  count(): number {
    return this.stmts.count.get()?.n ?? 0;
  }

  /**
   * Inserts now (synchronously durable), after everything queued: creation is rare and the caller
   * needs the conflict at once.
   */
  insert(rec: DeviceRecord): void {
    const row = {
      id: rec.id,
      name: rec.name,
      token: rec.token,
      token_hash: hashSecret(rec.token),
      acl: JSON.stringify(rec.acl),
      shadow: JSON.stringify(rec.shadow),
      created: rec.created,
      last_seen: rec.last_seen,
    };
    this.metaCache.delete(rec.id);
    this.committer.writeNow(() => this.stmts.insert.run(row));
  }

  rename(id: string, name: string): Promise<void> {
    return this.metaWrite(id, this.committer.writeStatement(this.stmts.rename, name, id));
  }

  setAcl(id: string, acl: DeviceAcl): Promise<void> {
    const json = JSON.stringify(acl);
    return this.metaWrite(id, this.committer.writeStatement(this.stmts.setAcl, json, id));
  }

  setShadow(id: string, shadow: ShadowDoc): Promise<void> {
    return this.committer.writeStatement(this.stmts.setShadow, JSON.stringify(shadow), id);
  }

  /**
   * Writes several fields of one device in one transaction (a SAVEPOINT of the group commit):
   * all of them land or none does (issue 7 item 10, `POST /devices/:id`). Serialized before it
   * is queued, so a value that cannot be stored fails here and queues nothing.
   */
  update(
    id: string,
    fields: { name?: string; acl?: DeviceAcl; shadow?: ShadowDoc },
  ): Promise<void> {
    const acl = fields.acl === undefined ? undefined : JSON.stringify(fields.acl);
    const shadow = fields.shadow === undefined ? undefined : JSON.stringify(fields.shadow);
    const { name } = fields;
    // One field is one statement, atomic by itself: no SAVEPOINT on the hot shadow-write path.
    if (acl === undefined && shadow === undefined && name !== undefined) {
      return this.rename(id, name);
    }
    if (name === undefined && shadow === undefined && acl !== undefined) {
      return this.metaWrite(id, this.committer.writeStatement(this.stmts.setAcl, acl, id));
    }
    if (name === undefined && acl === undefined && shadow !== undefined) {
      // The shadow is not part of the cached row: nothing to drop.
      return this.committer.writeStatement(this.stmts.setShadow, shadow, id);
    }
    const write = this.committer.write(() => {
      if (name !== undefined) this.stmts.rename.run(name, id);
      if (acl !== undefined) this.stmts.setAcl.run(acl, id);
      if (shadow !== undefined) this.stmts.setShadow.run(shadow, id);
    });
    return this.metaWrite(id, write);
  }

  setLastSeen(id: string, unixSec: number): Promise<void> {
    return this.metaWrite(id, this.committer.writeStatement(this.stmts.setLastSeen, unixSec, id));
  }

  /** Deletes now (synchronously durable), after everything queued for the device. */
  remove(id: string): boolean {
    this.metaCache.delete(id);
    try {
      return this.committer.writeNow(() => this.stmts.remove.run(id).changes > 0);
    } finally {
      this.metaCache.delete(id);
    }
  }

  /**
   * Ids whose stored shadow says `reported.online: true` (a hub that died with devices connected),
   * found in SQL so that one unreadable shadow cannot stop the hub from starting (issue 7 item 1).
   */
  idsMarkedOnline(): string[] {
    return this.stmts.markedOnline.all();
  }
}
