/**
 * Child-process fixture for hub-lifecycle.test.ts (issue 7 item 2): starts a real hub whose port
 * watcher polls every 50 ms with the real system lister (udevadm on Linux), uses up every file
 * descriptor the process may open, holds them while the watcher polls, gives them back, and
 * prints one JSON line saying whether the hub still serves. Before the fix the process died of
 * an unhandled `spawn udevadm EMFILE` while the descriptors were gone.
 *
 * Run with: node --import tsx test/support/fd-exhaustion-hub.ts (under `prlimit --nofile=N` to
 * keep it quick).
 */
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHub } from '../../src/main/hub';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const dataDir = mkdtempSync(join(tmpdir(), 'fb-fd-exhaustion-'));
const hub = createHub({
  host: '127.0.0.1',
  port: 0,
  tlsPort: null,
  logLevel: 'silent',
  dataDir,
  flasher: { portPollMs: 50 },
});
const urls = await hub.start();
const watcher = hub.services().flasher.watcher;
const fds: number[] = [];
let code = '';
try {
  for (;;) fds.push(openSync('/dev/null', 'r'));
} catch (err) {
  code = (err as NodeJS.ErrnoException).code ?? String(err);
}
// Several polls (50, 100, 200 ms apart with the backoff) run with no descriptor to spare.
await sleep(800);
const failedWhileExhausted = watcher?.failedPolls ?? -1;
for (const fd of fds) closeSync(fd);
// The backoff is up to 30 s; ask for polls now instead of waiting for one (the first may be a
// poll that started while the descriptors were still gone).
for (let i = 0; i < 50 && watcher && watcher.failedPolls > 0; i++) {
  await watcher.refresh();
  if (watcher.failedPolls > 0) await sleep(20);
}
const res = await fetch(`${urls.http}/api/v2/hub`, {
  headers: { authorization: `Bearer ${hub.masterKey()}` },
});
process.stdout.write(
  `${JSON.stringify({
    opened: fds.length,
    code,
    failedWhileExhausted,
    failedAfter: watcher?.failedPolls ?? -1,
    status: res.status,
  })}\n`,
);
await hub.stop();
rmSync(dataDir, { recursive: true, force: true });
