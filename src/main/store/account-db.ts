/**
 * The account database (PROTOCOL.md 5): a separate SQLite file that SQL clients may change at
 * will, so nothing of the hub's own registry lives in it. Its API arrives with the data issue;
 * for now it is created with the default schema and records online/offline events.
 */
import type { Db } from './database';
import type { GroupCommitter, RunnableStatement } from './group-commit';

export class AccountDb {
  private readonly insertStmt;

  constructor(
    readonly db: Db,
    private readonly committer: GroupCommitter,
  ) {
    this.insertStmt = db.prepare<[string, string, string]>(
      'INSERT INTO data (device_id, topic, message) VALUES (?, ?, ?)',
    );
  }

  /** Inserts one row of the `data` table; resolves once committed. */
  insertData(deviceId: string, topic: string, message: string): Promise<void> {
    return this.committer.writeStatement(this.insertStmt, deviceId, topic, message);
  }

  /** One statement-sized write (atomic by itself) through the group committer; resolves once durable. */
  writeStatement(stmt: RunnableStatement<[]>): Promise<void> {
    return this.committer.writeStatement(stmt);
  }

  /** A write of several statements in its own SAVEPOINT of the group commit; resolves once durable. */
  write<T>(fn: () => T): Promise<T> {
    return this.committer.write(fn);
  }
}
