/**
 * Child process for the crash-durability test (test/integration/store/durability.test.ts): writes
 * rows through the real GroupCommitter as fast as it takes them and prints `ack <id>` once each
 * write's promise has resolved, which is the moment the hub would acknowledge it. The parent
 * SIGKILLs this process mid-stream and checks that every acknowledged id is in the database.
 *
 *   node --import tsx test/support/group-commit-writer.ts <db path> [--window-ms N]
 *     [--in-flight N] [--checkpoint-every N] [--max-writes N] [--max-ms N]
 *
 * Acks go out with writeSync on fd 1, so an id printed before the kill has left this process.
 * It stops by itself after --max-writes writes or --max-ms, in case the parent never kills it.
 */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openDatabase } from '../../src/main/store/database';
import { GroupCommitter } from '../../src/main/store/group-commit';

const WRITER_SCHEMA = [
  'CREATE TABLE acked (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)',
] as const;

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'window-ms': { type: 'string', default: '2' },
      'in-flight': { type: 'string', default: '64' },
      'checkpoint-every': { type: 'string', default: '0' },
      'max-writes': { type: 'string', default: '200000' },
      'max-ms': { type: 'string', default: '15000' },
    },
  });
  const path = positionals[0];
  if (path === undefined) throw new Error('usage: group-commit-writer <db path> [options]');
  const windowMs = Number(values['window-ms']);
  const inFlight = Number(values['in-flight']);
  const checkpointEvery = Number(values['checkpoint-every']);
  const maxWrites = Number(values['max-writes']);
  const deadline = Date.now() + Number(values['max-ms']);

  const db = openDatabase(path, WRITER_SCHEMA);
  const gc = new GroupCommitter(db, windowMs);
  const insert = db.prepare<[number, string]>('INSERT INTO acked (id, payload) VALUES (?, ?)');
  const payload = 'x'.repeat(300);
  let next = 1;
  let acked = 0;

  const stop = (): void => {
    gc.close();
    db.close();
    process.exit(0);
  };

  const writeOne = (): void => {
    if (next > maxWrites || Date.now() > deadline) {
      stop();
      return;
    }
    const id = next++;
    // Both kinds of write: a job in its own SAVEPOINT, and a bare statement.
    const done =
      id % 2 === 0
        ? gc.writeStatement(insert, id, payload)
        : gc.write(() => void insert.run(id, payload));
    done.then(
      () => {
        writeSync(1, `ack ${id}\n`);
        acked++;
        if (checkpointEvery > 0 && acked % checkpointEvery === 0) {
          db.pragma('wal_checkpoint(TRUNCATE)');
        }
        // The next write starts on a later turn, so batches form while flushes run.
        setImmediate(writeOne);
      },
      (err: unknown) => {
        writeSync(2, `write ${id} failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };

  for (let i = 0; i < inFlight; i++) setImmediate(writeOne);
  writeSync(1, 'ready\n');
}

main();
