/**
 * Child process for the notification-log crash test (test/integration/store/log-crash.test.ts):
 * opens a real store, appends a log row every millisecond (`l <i> <ms>` printed after the
 * append) and, at the same time, writes a device's shadow in a loop, printing `a <k>` once each
 * write resolved (the moment the hub would acknowledge it). The parent SIGKILLs it mid-stream.
 *
 *   node --import tsx test/support/log-crash-writer.ts <data dir>
 *
 * Lines go out with writeSync on fd 1, so a line printed before the kill has left this process.
 * It stops by itself after 15 s, in case the parent never kills it.
 */
import { writeSync } from 'node:fs';
import { openStore } from '../../src/main/store/store';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: log-crash-writer.ts <data dir>');
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
  i++;
  const now = Date.now();
  store.log.append({ name: 'rpc.in.Test', id: 'd1', data: { i } }, now).catch(() => undefined);
  writeSync(1, `l ${i} ${now}\n`);
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
