/**
 * The customers table (PROTOCOL.md 4 customer API; migration 5). The token is returned again by
 * `GET /customer`, so it is stored as is and found by its hash, then compared in constant time
 * (as device passwords are). The password exists here only as a scrypt hash. Writes run through
 * the committer in order with everything queued (`writeNow`), so a full or failing disk refuses
 * them with a catalog error.
 */
import type { Db } from './database';
import type { GroupCommitter } from './group-commit';
import type { CustomerObject } from '../../shared/customers';
import type { Json, JsonObject } from '../../shared/types';
import { hashSecret, randomId, randomToken, secretsEqual } from './secrets';

export interface CustomerRecord extends CustomerObject {
  /** `scrypt$..` (customers/password-hash.ts), or null: no Basic-auth password set. */
  password_hash: string | null;
}

/** Fields a write may change; `undefined` leaves a field as it is. */
export interface CustomerPatch {
  email?: string;
  app_id?: string;
  pubkeys?: Record<string, JsonObject>;
  cconfig?: Json;
  password_hash?: string | null;
}

interface Row {
  id: string;
  email: string;
  app_id: string;
  token: string;
  password_hash: string | null;
  pubkeys: string;
  cconfig: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'id, email, app_id, token, password_hash, pubkeys, cconfig, created_at, updated_at';

function fromRow(row: Row): CustomerRecord {
  return {
    id: row.id,
    app_id: row.app_id,
    email: row.email,
    token: row.token,
    pubkeys: JSON.parse(row.pubkeys) as Record<string, JsonObject>,
    cconfig: JSON.parse(row.cconfig) as Json,
    created_at: row.created_at,
    updated_at: row.updated_at,
    password_hash: row.password_hash,
  };
}

/** The object as customers see it: everything but the password hash. */
export function customerObject(rec: CustomerRecord): CustomerObject {
  const { password_hash: _hidden, ...obj } = rec;
  return obj;
}

export class CustomersRepo {
  private readonly stmts;

  constructor(
    db: Db,
    private readonly committer: GroupCommitter,
  ) {
    this.stmts = {
      get: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM customers WHERE id = ?`),
      byEmail: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM customers WHERE email = ?`),
      byHash: db.prepare<[Buffer], Row>(`SELECT ${COLUMNS} FROM customers WHERE token_hash = ?`),
      all: db.prepare<[], Row>(`SELECT ${COLUMNS} FROM customers ORDER BY created_at, id`),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM customers'),
      insert: db.prepare(
        `INSERT INTO customers (id, email, app_id, token, token_hash, password_hash, pubkeys,
           cconfig, created_at, updated_at)
         VALUES (@id, @email, @app_id, @token, @token_hash, @password_hash, @pubkeys, @cconfig,
           @created_at, @updated_at)`,
      ),
      update: db.prepare(
        `UPDATE customers SET email = @email, app_id = @app_id, password_hash = @password_hash,
           pubkeys = @pubkeys, cconfig = @cconfig, updated_at = @updated_at WHERE id = @id`,
      ),
      remove: db.prepare<[string]>('DELETE FROM customers WHERE id = ?'),
    };
  }

  get(id: string): CustomerRecord | undefined {
    const row = this.stmts.get.get(id);
    return row ? fromRow(row) : undefined;
  }

  /** `email` must be normalized already (customers/email.ts). */
  byEmail(email: string): CustomerRecord | undefined {
    const row = this.stmts.byEmail.get(email);
    return row ? fromRow(row) : undefined;
  }

  /** The customer whose key this is, compared in constant time. */
  byToken(token: string): CustomerRecord | undefined {
    const row = this.stmts.byHash.get(hashSecret(token));
    if (!row || !secretsEqual(row.token, token)) return undefined;
    return fromRow(row);
  }

  list(): CustomerRecord[] {
    return this.stmts.all.all().map(fromRow);
  }

  count(): number {
    return this.stmts.count.get()?.n ?? 0;
  }

  /**
   * Inserts a customer with a fresh token (base64url: `[A-Za-z0-9_-]`, safe as a whole query
   * string, 192 bits), or the given one (`fleetbench import`). The caller checked that the email,
   * id and a given token are free.
   */
  insert(
    fields: { id?: string; email: string; token?: string } & Omit<CustomerPatch, 'email'>,
    nowSec: number,
  ): CustomerRecord {
    const token = fields.token ?? randomToken(24);
    const rec: CustomerRecord = {
      id: fields.id ?? randomId('c', 12),
      app_id: fields.app_id ?? '',
      email: fields.email,
      token,
      pubkeys: fields.pubkeys ?? {},
      cconfig: fields.cconfig ?? {},
      created_at: nowSec,
      updated_at: nowSec,
      password_hash: fields.password_hash ?? null,
    };
    this.committer.writeNow(() =>
      this.stmts.insert.run({
        ...rec,
        token_hash: hashSecret(token),
        pubkeys: JSON.stringify(rec.pubkeys),
        cconfig: JSON.stringify(rec.cconfig),
      }),
    );
    return rec;
  }

  /** Applies `patch` (each given field replaces the stored one); undefined when no such id. */
  update(id: string, patch: CustomerPatch, nowSec: number): CustomerRecord | undefined {
    const cur = this.get(id);
    if (!cur) return undefined;
    const next: CustomerRecord = {
      ...cur,
      ...(patch.email !== undefined && { email: patch.email }),
      ...(patch.app_id !== undefined && { app_id: patch.app_id }),
      ...(patch.pubkeys !== undefined && { pubkeys: patch.pubkeys }),
      ...(patch.cconfig !== undefined && { cconfig: patch.cconfig }),
      ...(patch.password_hash !== undefined && { password_hash: patch.password_hash }),
      updated_at: nowSec,
    };
    this.committer.writeNow(() =>
      this.stmts.update.run({
        id,
        email: next.email,
        app_id: next.app_id,
        password_hash: next.password_hash,
        pubkeys: JSON.stringify(next.pubkeys),
        cconfig: JSON.stringify(next.cconfig),
        updated_at: nowSec,
      }),
    );
    return next;
  }

  remove(id: string): boolean {
    return this.committer.writeNow(() => this.stmts.remove.run(id).changes > 0);
  }
}
