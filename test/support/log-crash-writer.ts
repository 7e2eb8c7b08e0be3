/**
 * Child process for the notification-log crash test (test/integration/store/log-crash.test.ts):
 * opens a real store, appends `burst` log rows every millisecond (`l <i> <ms>` printed after each
 * append; a burst of 5 is 5,000 rows/s, enough for the log's worker thread to write them) and, at the same time, writes a device's shadow in a loop, printing `a <k>` once each
 * write resolved (the moment the hub would acknowledge it). The parent SIGKILLs it mid-stream.
 *
 *   node --import tsx test/support/log-crash-writer.ts <data dir> [burst]
 *
 * Lines go out with writeSync on fd 1, so a line printed before the kill has left this process.
 * It stops by itself after 15 s, in case the parent never kills it.
 */
import { writeSync } from 'node:fs';
import { openStore } from '../../src/main/store/store';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: log-crash-writer.ts <data dir> [burst]');
const burst = Number(process.argv[3] ?? 1);
const store = openStore(dir);
store.devices.insert({
  id: 'd1',
  name: 'd1',
  token: 'tok-d1',
  acl: {},
  shadow: { state: { desired: {}, reported: {} }, version: 0, timestamp: 0, metadata: {} } as never,
  created: 1,
  last_seen: 0,
});
writeSync(1, 'ready\n');

let i = 0;
setInterval(() => {
  for (let b = 0; b < burst; b++) {
    i++;
    const now = Date.now();
    store.log.append({ name: 'rpc.in.Test', id: 'd1', data: { i } }, now).catch(() => undefined);
    writeSync(1, `l ${i} ${now}\n`);
  }
  if (i === burst * 300) writeSync(1, `t ${store.log.threaded ? 1 : 0}\n`);
}, 1);

let k = 0;
const shadowLoop = async (): Promise<void> => {
  for (;;) {
    k++;
    await store.devices.setShadow('d1', { state: { reported: { k } }, version: k } as never);
    writeSync(1, `a ${k}\n`);
  }
};
void shadowLoop();
setTimeout(() => process.exit(0), 15_000);
