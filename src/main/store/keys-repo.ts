/**
 * Master API keys (PROTOCOL.md 4 `/keys`). Only SHA-256 hashes are stored: a key is shown once,
 * when it is created. Key writes run through the committer in order with everything queued
 * (`writeNow`), so a full or failing disk refuses them with a catalog error.
 *
 * Every request is authenticated, so verification reads no table (issue 11: a SQLite lookup per
 * request was 4% of the hub's CPU at 10k devices): the digests of all keys are held in a map,
 * written through on create and delete (after their durable commit, so memory never claims what
 * the disk does not hold). A key deleted by another process on the same data dir (`fleetbench
 * keys delete` while a hub runs) is seen at the next request: `PRAGMA data_version` changes when
 * another connection committed, and the map is then read again, so revocation is immediate
 * everywhere. `last_used` is updated in memory and written at most once a minute per key, queued
 * on the group commit (best effort: it never fails or delays a request).
 */
import { timingSafeEqual } from 'node:crypto';
import type { Db } from './database';
import type { GroupCommitter } from './group-commit';
import type { KeyObject } from '../../shared/types';
import { hashSecret, hashSecretHex, randomId, randomToken } from './secrets';
import { OutsideWrites } from './outside-writes';

interface Row {
  id: string;
  created: number;
  last_used: number;
}

interface CachedKey extends Row {
  hash: Buffer;
}

const LAST_USED_RESOLUTION_SEC = 60;

export class KeysRepo {
  private readonly stmts;
  /** Every key, by the hex of its digest; null until first needed or after an outside change. */
  private byDigest: Map<string, CachedKey> | null = null;
  private dataVersion = -1;

  constructor(
    db: Db,
    private readonly committer: GroupCommitter,
    private readonly outside: OutsideWrites = new OutsideWrites(db),
  ) {
    this.stmts = {
      insert: db.prepare<[string, Buffer, number]>(
        'INSERT INTO api_keys (id, key_hash, created) VALUES (?, ?, ?)',
      ),
      everything: db.prepare<[], CachedKey>(
        'SELECT id, created, last_used, key_hash AS hash FROM api_keys',
      ),
      all: db.prepare<[], Row>('SELECT id, created, last_used FROM api_keys ORDER BY created, id'),
      get: db.prepare<[string], Row>('SELECT id, created, last_used FROM api_keys WHERE id = ?'),
      remove: db.prepare<[string]>('DELETE FROM api_keys WHERE id = ?'),
      touch: db.prepare<[number, string]>('UPDATE api_keys SET last_used = ? WHERE id = ?'),
    };
  }

  /** Creates a key and returns it with its secret (the only time the secret is available). */
  create(nowSec: number, secret = randomToken(24)): KeyObject & { key: string } {
    const id = randomId('k', 10);
    const hash = hashSecret(secret);
    this.committer.writeNow(() => this.stmts.insert.run(id, hash, nowSec));
    this.keys().set(hash.toString('hex'), { id, created: nowSec, last_used: 0, hash });
    return { id, key: secret, created: nowSec, last_used: 0 };
  }

  /**
   * Looks a presented key up by its digest in memory. The map finds the entry by the digest's
   * text; the digests are then compared in constant time, so timing tells an attacker nothing
   * about a stored digest (nor could it: the attacker cannot choose a secret's hash).
   */
  verify(secret: string, nowSec: number): KeyObject | undefined {
    const hex = hashSecretHex(secret);
    // A miss looks again at once: another process may have just created it (outside-writes.ts).
    const key = this.keys().get(hex) ?? this.keys(true).get(hex);
    if (!key || !timingSafeEqual(key.hash, Buffer.from(hex, 'hex'))) return undefined;
    if (nowSec - key.last_used >= LAST_USED_RESOLUTION_SEC) {
      key.last_used = nowSec;
      // A hint, queued with other writes: a full or failing disk must not fail reads (issue 7
      // item 13), and the next try is a minute away.
      this.committer.writeStatement(this.stmts.touch, nowSec, key.id).catch(() => undefined);
    }
    return { id: key.id, created: key.created, last_used: key.last_used };
  }

  list(): KeyObject[] {
    return this.withLastUsed(this.stmts.all.all());
  }

  get(id: string): KeyObject | undefined {
    const row = this.stmts.get.get(id);
    return row ? this.withLastUsed([row])[0] : undefined;
  }

  remove(id: string): boolean {
    const removed = this.committer.writeNow(() => this.stmts.remove.run(id).changes > 0);
    // After the durable delete, before anything else runs: the next request with it is refused.
    const keys = this.keys();
    for (const [digest, k] of keys) if (k.id === id) keys.delete(digest);
    if (removed) for (const l of this.removedListeners) l(id);
    return removed;
  }

  /**
   * The key map, read again from the table when another connection committed since; `force`: ask
   * SQLite now rather than trust a check a few ms old (outside-writes.ts).
   */
  private keys(force = false): Map<string, CachedKey> {
    const version = this.outside.current(force);
    if (this.byDigest === null || version !== this.dataVersion) {
      const old = this.byDigest;
      this.byDigest = new Map();
      for (const row of this.stmts.everything.all()) {
        // Keep the newer in-memory `last_used` whose write may still be queued.
        const seen = old?.get(row.hash.toString('hex'))?.last_used ?? 0;
        row.last_used = Math.max(row.last_used, seen);
        this.byDigest.set(row.hash.toString('hex'), row);
      }
      this.dataVersion = version;
    }
    return this.byDigest;
  }

  /** Rows with the in-memory `last_used`, which may be ahead of the table by one queued write. */
  private withLastUsed(rows: Row[]): KeyObject[] {
    const byId = new Map<string, number>();
    for (const k of this.keys().values()) byId.set(k.id, k.last_used);
    return rows.map((r) => ({ ...r, last_used: Math.max(r.last_used, byId.get(r.id) ?? 0) }));
  }

  /**
   * Called with the id of every key this process deletes, so long-lived sockets opened with it
   * (notification streams, serial monitors) can be closed: revoking a key revokes its sessions.
   */
  onRemoved(listener: (id: string) => void): () => void {
    this.removedListeners.add(listener);
    return () => void this.removedListeners.delete(listener);
  }
  private readonly removedListeners = new Set<(id: string) => void>();
}
