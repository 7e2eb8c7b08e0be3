/**
 * A stand-in hub for sql-orphan.test.ts: opens a store in the given data dir, starts a runaway
 * statement through the SQL executor and prints the SQL process's pid, then waits to be killed.
 */
import { join } from 'node:path';
import { DEFAULT_SQL } from '../../../src/main/config';
import { SqlExecutor } from '../../../src/main/data/sql-executor';
import { ACCOUNT_FILE } from '../../../src/main/store/data-dir';
import { openStore } from '../../../src/main/store/store';

const dataDir = process.argv[2] ?? '';
openStore(dataDir);
const sql = new SqlExecutor({
  file: join(dataDir, ACCOUNT_FILE),
  dataDir,
  limits: { ...DEFAULT_SQL, timeoutMs: 600_000 },
});
void sql
  .exec('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c')
  .catch(() => undefined);
const poll = setInterval(() => {
  const pids = sql.pids();
  if (pids.length > 0) {
    clearInterval(poll);
    console.log(`pid ${pids[0]}`);
  }
}, 20);
