/**
 * Master API keys (PROTOCOL.md 4 `/keys`). Only SHA-256 hashes are stored: a key is shown once,
 * when it is created. `last_used` is written at most once a minute per key so that authenticating
 * a busy client does not turn every request into a write. Key writes run through the committer
 * in order with everything queued (`writeNow`), so a full or failing disk refuses them with a
 * catalog error; the `last_used` touch is best effort and never fails a request.
 */
import type { Db } from './database';
import type { GroupCommitter } from './group-commit';
import type { KeyObject } from '../../shared/types';
import { hashSecret, randomId, randomToken } from './secrets';

interface Row {
  id: string;
  created: number;
  last_used: number;
}

const LAST_USED_RESOLUTION_SEC = 60;

export class KeysRepo {
  private readonly stmts;
  private readonly lastUsedCache = new Map<string, number>();

  constructor(
    db: Db,
    private readonly committer: GroupCommitter,
  ) {
    this.stmts = {
      insert: db.prepare<[string, Buffer, number]>(
        'INSERT INTO api_keys (id, key_hash, created) VALUES (?, ?, ?)',
      ),
      byHash: db.prepare<[Buffer], Row>(
        'SELECT id, created, last_used FROM api_keys WHERE key_hash = ?',
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
    this.committer.writeNow(() => this.stmts.insert.run(id, hashSecret(secret), nowSec));
    return { id, key: secret, created: nowSec, last_used: 0 };
  }

  /**
   * Looks a presented key up by its hash. The lookup compares digests inside SQLite's index; an
   * attacker learns nothing from timing about a secret whose hash it cannot choose.
   */
  verify(secret: string, nowSec: number): KeyObject | undefined {
    const row = this.stmts.byHash.get(hashSecret(secret));
    if (!row) return undefined;
    const last = this.lastUsedCache.get(row.id) ?? row.last_used;
    if (nowSec - last >= LAST_USED_RESOLUTION_SEC) {
      this.lastUsedCache.set(row.id, nowSec);
      try {
        this.stmts.touch.run(nowSec, row.id);
        row.last_used = nowSec;
      } catch {
        // A full or failing disk: reads must keep working (issue 7 item 13), and `last_used`
        // is a hint; the next try is a minute away.
      }
    }
    return row;
  }

  list(): KeyObject[] {
    return this.stmts.all.all();
  }

  get(id: string): KeyObject | undefined {
    return this.stmts.get.get(id);
  }

  remove(id: string): boolean {
    this.lastUsedCache.delete(id);
    const removed = this.committer.writeNow(() => this.stmts.remove.run(id).changes > 0);
    if (removed) for (const l of this.removedListeners) l(id);
    return removed;
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
