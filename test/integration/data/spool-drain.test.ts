/**
 * Spool drain (PROTOCOL.md 5) against a real hub, real sockets and the real account database:
 * with the simulated device's own spool (sim-spool.ts), and with a hand-driven device for the
 * edges (malformed lines, a missing file, a disconnect mid-drain, a reply past 8 KB, triggers
 * while a drain runs).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimDevice } from '../../../src/main/sim/sim-device';
import { SPOOL_FILE, SPOOL_OLD_FILE } from '../../../src/main/sim/sim-spool';
import { SPOOL_ASIDE } from '../../../src/main/data/spool-drain';
import type { Json, Notification } from '../../../src/shared/types';
import {
  deviceUrl,
  openNotify,
  sleep,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import { accountRows, dataDevice, fileDevice, line } from './data-rig';

let t: TestHub | null = null;
const sims: SimDevice[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
  await t?.stop();
  t = null;
});

const rowsOf = (t: TestHub, id: string, topic: string): { message: string }[] =>
  accountRows(
    t,
    'SELECT message FROM data WHERE device_id = ? AND topic = ? ORDER BY rowid',
    id,
    topic,
  );

function sim(t: TestHub, token: string, id: string, files: Record<string, Buffer> = {}): SimDevice {
  const s = new SimDevice({
    url: deviceUrl(t),
    password: token,
    id,
    files,
    reconnect: false,
    seed: 3,
  });
  sims.push(s);
  return s;
}

describe('spool drain with a simulated device', () => {
  it('drains mdash.unsent.old then mdash.unsent on connect, in one transaction each, then removes them', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    const notify = await openNotify(t);
    const old = Buffer.from(
      line('q', ['t1', 'spool', 'old-1']) + line('q', ['t2', 'spool', 'old-2']),
    );
    const cur = Buffer.from(line('q', ['t3', 'spool', 'new-1']));
    const s = sim(t, dev.token, dev.id, { [SPOOL_OLD_FILE]: old, [SPOOL_FILE]: cur });
    s.start();
    const n = await notify.next(
      (x: Notification) => x.name === 'data.drain' && x.id === dev.id,
      10_000,
    );
    expect(n.data).toMatchObject({ rows: 3, skipped: 0 });
    expect(rowsOf(t, dev.id, 'spool').map((r) => r.message)).toEqual(['old-1', 'old-2', 'new-1']);
    await waitFor(() => !s.fs.has(SPOOL_FILE) && !s.fs.has(SPOOL_OLD_FILE));
  });

  it('drains on DB.NewData after the device spooled a record with store()', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    const s = sim(t, dev.token, dev.id);
    const ready = new Promise<void>((r) => s.once('ready', r));
    s.start();
    await ready;
    await waitFor(() => !t!.hub.services().gateway.data.drainer.isDraining(dev.id));
    expect(s.store('q', ['ts', 'live', 'v1'])).toBe(true);
    await waitFor(() => rowsOf(t!, dev.id, 'live').length === 1);
    await waitFor(() => !s.fs.has(SPOOL_FILE));
  });
});

describe('spool drain edges (hand-driven device)', () => {
  it('skips malformed lines, unknown queries and failing SQL, counts them, and stores the rest', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t, {
      data_write: {
        q: "INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, 'DEVICE_ID', ?, ?)",
        bad: 'INSERT INTO nope VALUES (?)',
      },
    });
    const notify = await openNotify(t);
    const text =
      line('q', ['t', 'e', 'a']) +
      'not a record\n' +
      line('missing', [1]) +
      line('bad', [1]) +
      'q {"x":1}\n' +
      line('q', ['t', 'e', 'b']) +
      'q ["t","e","cut';
    const d = await fileDevice(t, dev, { [SPOOL_FILE]: text });
    const n = await notify.next((x) => x.name === 'data.drain' && x.id === dev.id, 10_000);
    expect(n.data).toMatchObject({ rows: 2, skipped: 5 });
    expect(rowsOf(t, dev.id, 'e').map((r) => r.message)).toEqual(['a', 'b']);
    expect(d.files.has(SPOOL_FILE)).toBe(false);
    const stats = t.hub.services().gateway.data.stats.snapshot();
    expect(stats.drain_skipped).toBe(5);
  });

  it('without FS.Rename, lines appended while the live file is read are stored before it is removed', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    const first = line('q', ['t', 'grow', 'first']);
    const d = await fileDevice(t, dev, {});
    let appended = 0;
    // The firmware appends a record while the hub reads the live file (after each of its reads).
    d.hold = async () => {
      const cur = d.files.get(SPOOL_FILE);
      if (cur !== undefined && appended < 2) {
        appended++;
        d.files.set(
          SPOOL_FILE,
          Buffer.concat([cur, Buffer.from(line('q', ['t', 'grow', `late-${appended}`]))]),
        );
      }
    };
    d.files.set(SPOOL_FILE, Buffer.from(first));
    d.notify('DB.NewData', true);
    await waitFor(() => !d.files.has(SPOOL_FILE), 10_000, 'the live file removed');
    expect(rowsOf(t, dev.id, 'grow').map((r) => r.message)).toEqual(['first', 'late-1', 'late-2']);
  });

  it('moves the live file aside with FS.Rename before reading it: a record stored meanwhile stays', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    const s = sim(t, dev.token, dev.id, {
      [SPOOL_FILE]: Buffer.from(line('q', ['t', 'aside', 'before'])),
    });
    s.start();
    await waitFor(() => rowsOf(t!, dev.id, 'aside').length === 1, 10_000);
    // The moved file is removed after the commit that stored its row (a round trip later).
    await waitFor(() => !s.fs.has(SPOOL_ASIDE) && !s.fs.has(SPOOL_FILE), 5000, 'spool files gone');
  });

  it('leaves the spool of a device whose ACL has no data_write query alone (no FS.Get at all)', async () => {
    t = await startTestHub();
    const dev = await t.createDevice({});
    const d = await fileDevice(t, dev, { [SPOOL_FILE]: line('q', ['t', 'x', 'kept']) });
    d.notify('DB.NewData', true);
    await sleep(300);
    expect(d.fsCalls).toEqual([]);
    expect(d.files.has(SPOOL_FILE)).toBe(true);
  });

  it('skips a missing file (error reply) and reads in chunks of at most 4 KB until left is 0', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    let text = '';
    for (let i = 0; text.length < 10_000; i++) text += line('q', ['t', 'chunks', `row-${i}`]);
    const d = await fileDevice(t, dev, { [SPOOL_FILE]: text });
    const expected = text.split('\n').length - 1;
    await waitFor(() => rowsOf(t!, dev.id, 'chunks').length === expected, 10_000);
    const gets = d.fsCalls.filter((c) => c.method === 'FS.Get');
    expect(gets[0]?.params).toMatchObject({ filename: SPOOL_ASIDE, offset: 0 });
    expect(gets[1]?.params).toMatchObject({ filename: SPOOL_OLD_FILE, offset: 0 });
    const cur = (): typeof gets =>
      d.fsCalls.filter(
        (c) => c.method === 'FS.Get' && (c.params as { filename: string }).filename === SPOOL_FILE,
      );
    expect(
      cur()
        .map((c) => (c.params as { len: number }).len)
        .every((l) => l <= 4096),
    ).toBe(true);
    await waitFor(() => d.fsCalls.some((c) => c.method === 'FS.Remove'));
    // This device has no FS.Rename: drained in place, then one read on from the end (nothing new).
    expect(cur().map((c) => (c.params as { offset: number }).offset)).toEqual([
      0,
      4096,
      8192,
      text.length,
    ]);
    // Only the file that existed was removed.
    expect(d.fsCalls.filter((c) => c.method === 'FS.Remove').map((c) => c.params)).toEqual([
      { filename: SPOOL_FILE },
    ]);
  });

  it('accepts an FS.Get reply larger than the 8 KB frame limit (up to 64 KB)', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    let text = '';
    for (let i = 0; text.length < 40_000; i++) text += line('q', ['t', 'big', `row-${i}`]);
    const expected = text.split('\n').length - 1;
    const d = await fileDevice(t, dev, {});
    d.chunkOverride = 48 * 1024; // a firmware that ignores len: one ~54 KB frame after base64
    d.files.set(SPOOL_FILE, Buffer.from(text));
    d.notify('DB.NewData', true);
    await waitFor(() => rowsOf(t!, dev.id, 'big').length === expected, 10_000);
    expect(t.hub.services().gateway.stats.snapshot().dropped).toEqual({});
  });

  it('leaves the file in place and stores nothing when the device disconnects mid-drain', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    let text = '';
    for (let i = 0; text.length < 10_000; i++) text += line('q', ['t', 'gone', `row-${i}`]);
    let release: () => void = () => undefined;
    const d = await fileDevice(t, dev, {});
    d.files.set(SPOOL_FILE, Buffer.from(text));
    let gets = 0;
    d.hold = () => (++gets === 2 ? new Promise<void>((r) => (release = r)) : Promise.resolve());
    d.notify('DB.NewData', true);
    await waitFor(() => gets >= 2);
    d.raw.close();
    await waitFor(() => !t!.hub.services().gateway.isOnline(dev.id));
    release();
    await waitFor(() => !t!.hub.services().gateway.data.drainer.isDraining(dev.id));
    expect(rowsOf(t, dev.id, 'gone')).toEqual([]);
    expect(d.fsCalls.some((c) => c.method === 'FS.Remove')).toBe(false);
    expect(
      t.hub.services().gateway.data.stats.snapshot().drains_interrupted,
    ).toBeGreaterThanOrEqual(1);
  });

  it('runs one drain at a time per device: triggers during a drain schedule exactly one more pass', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t);
    const d = await fileDevice(t, dev, {});
    await waitFor(() => !t!.hub.services().gateway.data.drainer.isDraining(dev.id));
    d.fsCalls.length = 0;
    d.files.set(SPOOL_FILE, Buffer.from(line('q', ['t', 'once', 'a'])));
    let inFlight = 0;
    let maxInFlight = 0;
    const waits: (() => void)[] = [];
    d.hold = () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<void>((r) =>
        waits.push(() => {
          inFlight--;
          r();
        }),
      );
    };
    d.notify('DB.NewData', true);
    await waitFor(() => waits.length === 1);
    for (let i = 0; i < 5; i++) d.notify('DB.NewData', true);
    await sleep(100);
    expect(waits.length).toBe(1); // nothing else asked while the first FS.Get waits
    // Release everything as it comes.
    d.hold = null;
    waits.shift()?.();
    await waitFor(() => !t!.hub.services().gateway.data.drainer.isDraining(dev.id));
    expect(maxInFlight).toBe(1);
    // Pass 1: .old (missing) + unsent (read, removed); pass 2: both missing. No third pass.
    const firstGets = d.fsCalls.filter(
      (c) =>
        c.method === 'FS.Get' && (c.params as { filename: string }).filename === SPOOL_OLD_FILE,
    );
    expect(firstGets).toHaveLength(2);
    expect(rowsOf(t, dev.id, 'once')).toHaveLength(1);
  });
});

type _J = Json;
