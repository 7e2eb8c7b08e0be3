/**
 * The device registry table (PROTOCOL.md 4 device object minus the live `online` flag, which the
 * gateway owns). Reads are synchronous; writes go through the group committer so callers can
 * await durability. Insert and delete run in the committer's order too (`writeNow`): after every
 * write queued before them, so a shadow write queued for a deleted device can never land on a new
 * device with the same id (issue 7 item 3).
 *
 * Every row but its shadow is held in memory (issue 11: a SQLite read per login, per REST RPC and
 * per session step was a seventh of the hub's CPU in a 10k-device storm), loaded at first use and
 * kept in step write-through: a write's new values enter the map once its commit is durable, in
 * commit order, so readers see what is committed, as shadow readers do (shadow-cache.ts). A write
 * that failed reloads its row from the table, the only truth after a failure. Another connection's
 * commit (the CLI on a running hub) reloads the whole map at the next loop turn (`data_version`).
 */
import type { Db } from './database';
import type { GroupCommitter, RunnableStatement } from './group-commit';
import type { DeviceAcl, ShadowDoc } from '../../shared/types';
import { timingSafeEqual } from 'node:crypto';
import { hashSecret, hashSecretHex } from './secrets';
import { OutsideWrites } from './outside-writes';
import { deepFreeze } from './deep-freeze';

export interface DeviceRecord {
  id: string;
  name: string;
  token: string;
  acl: DeviceAcl;
  shadow: ShadowDoc;
  created: number;
  last_seen: number;
}

/**
 * A registry row without its shadow, for callers that hold the current shadow already. The
 * registry's own frozen copy: every caller shares it, none may change it.
 */
export type DeviceMeta = Readonly<Omit<DeviceRecord, 'shadow'>>;

interface MetaRow {
  id: string;
  name: string;
  token: string;
  token_hash: Buffer;
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

/** A device in memory: its frozen row and the SHA-256 of its password, for logins. */
interface Entry {
  meta: DeviceMeta;
  hash: Buffer;
}

/** The fields a write changes, applied to the map once it is durable. */
type MetaFields = Partial<Pick<DeviceMeta, 'name' | 'acl' | 'last_seen'>>;

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

/** Most devices have no ACL of their own: one shared frozen `{}` for all of them. */
const EMPTY_ACL: DeviceAcl = Object.freeze({});

function parseAcl(json: string): DeviceAcl {
  return json === '{}' ? EMPTY_ACL : deepFreeze(JSON.parse(json) as DeviceAcl);
}

function entryOf(row: MetaRow): Entry {
  const meta: DeviceMeta = Object.freeze({
    id: row.id,
    name: row.name,
    token: row.token,
    acl: parseAcl(row.acl),
    created: row.created,
    last_seen: row.last_seen,
  });
  return { meta, hash: row.token_hash };
}

const COLUMNS = 'id, name, token, acl, shadow, created, last_seen';
const META_COLUMNS = 'id, name, token, token_hash, acl, created, last_seen';
/** The columns `update` may set, in the order of its mask's bits. */
const UPDATE_COLUMNS = ['name', 'acl', 'shadow', 'last_seen'] as const;

/** What `update` writes; absent fields keep their stored value. */
export interface DeviceFields {
  name?: string;
  acl?: DeviceAcl;
  shadow?: ShadowDoc;
  /** Exactly `JSON.stringify(shadow)`, when the caller has it (shadow.ts makes it once). */
  shadowJson?: string;
  last_seen?: number;
}

export class DevicesRepo {
  private readonly stmts;
  /** Every device by id; null until first used, and again after another connection wrote. */
  private byId: Map<string, Entry> | null = null;
  /** Device ids by the hex SHA-256 of their password (PROTOCOL.md 1 login). */
  private readonly byHash = new Map<string, string>();
  private dataVersion = -1;
  /** `update`'s statements by the mask of the columns they set. */
  private readonly updates = new Map<number, RunnableStatement<(string | number)[]>>();

  constructor(
    private readonly db: Db,
    private readonly committer: GroupCommitter,
    private readonly outside: OutsideWrites = new OutsideWrites(db),
  ) {
    this.stmts = {
      get: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM devices WHERE id = ?`),
      shadow: db.prepare<[string], string>('SELECT shadow FROM devices WHERE id = ?').pluck(),
      getMeta: db.prepare<[string], MetaRow>(`SELECT ${META_COLUMNS} FROM devices WHERE id = ?`),
      allMeta: db.prepare<[], MetaRow>(`SELECT ${META_COLUMNS} FROM devices`),
      all: db.prepare<[], Row>(`SELECT ${COLUMNS} FROM devices ORDER BY created, id`),
      allShadows: db.prepare<[], { id: string; shadow: string }>(
        'SELECT id, shadow FROM devices ORDER BY created, id',
      ),
      insert: db.prepare(
        `INSERT INTO devices (id, name, token, token_hash, acl, shadow, created, last_seen)
         VALUES (@id, @name, @token, @token_hash, @acl, @shadow, @created, @last_seen)`,
      ),
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
   * The stored shadow alone: what a device's login builds its first write on (issue 11: a storm
   * reads 10,000 of them, and the rest of the row is in memory already).
   */
  shadow(id: string): ShadowDoc | undefined {
    const json = this.stmts.shadow.get(id);
    return json === undefined ? undefined : (JSON.parse(json) as ShadowDoc);
  }

  /** The row without its shadow, from memory (frozen, shared by every caller). */
  getMeta(id: string): DeviceMeta | undefined {
    // A miss looks again at once: another process may have just created it (outside-writes.ts).
    return this.entries().get(id)?.meta ?? this.entries(true).get(id)?.meta;
  }

  /**
   * Finds the device whose password this is (PROTOCOL.md 1 auth), from memory. The lookup is by
   * the password's SHA-256 and the check compares the stored digest in constant time: what a
   * timing could reveal is about a digest, which an attacker cannot choose.
   */
  byToken(token: string): DeviceMeta | undefined {
    const hex = hashSecretHex(token);
    let entries = this.entries();
    let id = this.byHash.get(hex);
    if (id === undefined) {
      // Perhaps created by another process a moment ago (outside-writes.ts): look again at once.
      entries = this.entries(true);
      id = this.byHash.get(hex);
    }
    const entry = id === undefined ? undefined : entries.get(id);
    if (!entry || !timingSafeEqual(entry.hash, Buffer.from(hex, 'hex'))) return undefined;
    return entry.meta;
  }

  list(): DeviceRecord[] {
    return this.stmts.all.all().map(fromRow);
  }

  /**
   * Every device in list order (created, id): the row from memory and the shadow as stored text,
   * which the caller parses only where no cached shadow supersedes it (issue 11: a dashboard's poll
   * of 10,000 online devices parsed 10,000 shadows and ACLs to throw them away).
   */
  listStored(): { meta: DeviceMeta; shadowJson: string }[] {
    const entries = this.entries();
    const out: { meta: DeviceMeta; shadowJson: string }[] = [];
    for (const row of this.stmts.allShadows.all()) {
      let meta = entries.get(row.id)?.meta;
      if (meta === undefined) {
        // Written behind the repo's back within this loop turn: read that row into memory.
        this.reload(row.id);
        meta = this.entries().get(row.id)?.meta;
      }
      if (meta !== undefined) out.push({ meta, shadowJson: row.shadow });
    }
    return out;
  }

  /** Every device's id, in no particular order; from memory. */
  ids(): string[] {
    return [...this.entries().keys()];
  }

  count(): number {
    return this.entries().size;
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
    const entries = this.entries();
    this.committer.writeNow(() => this.stmts.insert.run(row));
    this.put(entries, entryOf(row));
  }

  rename(id: string, name: string): Promise<void> {
    return this.update(id, { name });
  }

  setAcl(id: string, acl: DeviceAcl): Promise<void> {
    return this.update(id, { acl });
  }

  setShadow(id: string, shadow: ShadowDoc): Promise<void> {
    return this.update(id, { shadow });
  }

  /**
   * Writes several fields of one device at once: all of them land or none does (issue 7 item 10,
   * `POST /devices/:id`). One UPDATE of just the given columns, atomic by itself, so no SAVEPOINT;
   * a login writes its shadow and `last_seen` in one statement this way (issue 11). Serialized
   * before it is queued, so a value that cannot be stored fails here and queues nothing.
   */
  update(id: string, fields: DeviceFields): Promise<void> {
    const acl = fields.acl === undefined ? undefined : JSON.stringify(fields.acl);
    const shadow =
      fields.shadow === undefined
        ? undefined
        : (fields.shadowJson ?? JSON.stringify(fields.shadow));
    const { name, last_seen } = fields;
    // Bit i of the mask is UPDATE_COLUMNS[i]; the values go in the same order.
    const given = [name, acl, shadow, last_seen];
    const values: (string | number)[] = [];
    let mask = 0;
    for (let i = 0; i < given.length; i++) {
      const v = given[i];
      if (v === undefined) continue;
      mask |= 1 << i;
      values.push(v);
    }
    if (mask === 0) return Promise.resolve();
    values.push(id);
    const write = this.committer.writeStatement(this.updateStatement(mask), ...values);
    // The shadow is not part of the row in memory: a shadow alone has nothing to apply.
    if (name === undefined && acl === undefined && last_seen === undefined) return write;
    const meta: MetaFields = {
      ...(name !== undefined && { name }),
      ...(acl !== undefined && { acl: parseAcl(acl) }),
      ...(last_seen !== undefined && { last_seen }),
    };
    return this.settled(id, meta, write);
  }

  /** `UPDATE devices SET <the columns of mask> WHERE id = ?`, prepared once per column set. */
  private updateStatement(mask: number): RunnableStatement<(string | number)[]> {
    let stmt = this.updates.get(mask);
    if (stmt === undefined) {
      const cols = UPDATE_COLUMNS.filter((_, i) => mask & (1 << i)).map((c) => `${c} = ?`);
      stmt = this.db.prepare<(string | number)[]>(
        `UPDATE devices SET ${cols.join(', ')} WHERE id = ?`,
      );
      this.updates.set(mask, stmt);
    }
    return stmt;
  }

  setLastSeen(id: string, unixSec: number): Promise<void> {
    return this.update(id, { last_seen: unixSec });
  }

  /** Deletes now (synchronously durable), after everything queued for the device. */
  remove(id: string): boolean {
    const entries = this.entries();
    const removed = this.committer.writeNow(() => this.stmts.remove.run(id).changes > 0);
    this.drop(entries, id);
    return removed;
  }

  /**
   * Ids whose stored shadow says `reported.online: true` (a hub that died with devices connected),
   * found in SQL so that one unreadable shadow cannot stop the hub from starting (issue 7 item 1).
   */
  idsMarkedOnline(): string[] {
    return this.stmts.markedOnline.all();
  }

  /**
   * The map, loaded again when another connection committed since (the CLI on a running hub);
   * `force`: ask SQLite now rather than trust a check a few ms old (outside-writes.ts).
   */
  private entries(force = false): Map<string, Entry> {
    const version = this.outside.current(force);
    if (this.byId === null || version !== this.dataVersion) {
      this.byId = new Map();
      this.byHash.clear();
      for (const row of this.stmts.allMeta.all()) this.put(this.byId, entryOf(row));
      this.dataVersion = version;
    }
    return this.byId;
  }

  private put(entries: Map<string, Entry>, entry: Entry): void {
    this.drop(entries, entry.meta.id);
    entries.set(entry.meta.id, entry);
    this.byHash.set(entry.hash.toString('hex'), entry.meta.id);
  }

  private drop(entries: Map<string, Entry>, id: string): void {
    const old = entries.get(id);
    if (old === undefined) return;
    entries.delete(id);
    this.byHash.delete(old.hash.toString('hex'));
  }

  /**
   * Applies `fields` to the device in memory once `write` is durable (settles run in commit
   * order, so the last write wins as in the table). A failed write reloads the row instead.
   */
  private settled(id: string, fields: MetaFields, write: Promise<void>): Promise<void> {
    return write.then(
      () => {
        const entries = this.entries();
        const entry = entries.get(id);
        if (entry === undefined) return; // deleted meanwhile (or never there: a no-op UPDATE)
        entries.set(id, { meta: Object.freeze({ ...entry.meta, ...fields }), hash: entry.hash });
      },
      (err: unknown) => {
        this.reload(id);
        throw err;
      },
    );
  }

  /** Reads one row back from the table into the map (after a failed write, or a row not in it). */
  private reload(id: string): void {
    const entries = this.entries();
    let row: MetaRow | undefined;
    try {
      row = this.stmts.getMeta.get(id);
    } catch {
      // The database cannot be read either: drop the row, the next full load has the truth.
      this.byId = null;
      return;
    }
    if (row === undefined) this.drop(entries, id);
    else this.put(entries, entryOf(row));
  }
}
