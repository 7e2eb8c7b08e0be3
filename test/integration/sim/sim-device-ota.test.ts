import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import { strToU8, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { SimDevice, type SimDeviceOptions } from '../../../src/main/sim/sim-device';
import { FakeHub, type FakeSession } from '../../support/fake-hub';
import { espAppImage } from '../../../src/main/sim/sim-firmware-files';

const PASS = 'ota-pass';
const ID = 'ota1';
let hub: FakeHub | null = null;
let dev: SimDevice | null = null;

afterEach(async () => {
  await dev?.stop();
  await hub?.stop();
  dev = null;
  hub = null;
});

async function setup(
  opts: Partial<SimDeviceOptions> = {},
): Promise<{ hub: FakeHub; dev: SimDevice; session: FakeSession }> {
  hub = new FakeHub({ devices: { [PASS]: ID } });
  await hub.start();
  dev = new SimDevice({
    url: hub.url,
    password: PASS,
    id: ID,
    fwVersion: '1.0.0',
    fwId: 'build-1',
    otaRebootDelayMs: 30,
    reconnect: { initialMs: 50, maxMs: 100 },
    ...opts,
  });
  dev.start();
  const session = await hub.waitForSession(ID);
  await hub.waitForInfo(session);
  return { hub, dev, session };
}

function fwZip(version: string, buildId: string, size = 9000): Buffer {
  const manifest = { name: 'demo-app', platform: 'esp32', version, build_id: buildId, parts: {} };
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31) & 0xff;
  // level 0: the zip stays as big as its content, so there are several 2 KB writes.
  return Buffer.from(
    zipSync(
      { 'demo-app/manifest.json': strToU8(JSON.stringify(manifest)), 'demo-app/fw.bin': body },
      { level: 0 },
    ),
  );
}

/** What the hub does (PROTOCOL.md 6): Begin, sequential 2048-byte writes awaiting each, End. */
// Mongoose OS family (the default); the Arduino library family is in sim-device-ota-hub.test.ts.
async function sendImage(
  session: FakeSession,
  image: Buffer,
  commitTimeout: number,
): Promise<void> {
  expect(
    await session.result('OTA.Begin', { size: image.length, commit_timeout: commitTimeout }),
  ).toBe(true);
  for (let offset = 0; offset < image.length; offset += 2048) {
    const chunk = image.subarray(offset, offset + 2048);
    expect(await session.result('OTA.Write', { offset, data: chunk.toString('base64') })).toBe(
      true,
    );
  }
  expect(await session.result('OTA.End')).toBe(true);
}

describe('SimDevice OTA (PROTOCOL.md 6)', () => {
  it('happy path: reboot into the new image uncommitted, commit keeps it', async () => {
    const { hub, dev, session } = await setup();
    const boots: string[] = [];
    dev.on('boot', (b) => boots.push(b));
    const image = fwZip('2.0.0', '20250301-101010');
    await sendImage(session, image, 60);
    expect(session.notifications('State.Set')).toEqual([]); // the Arduino library's, not mos's

    expect(await session.waitClosed()).toBe(1006);
    const s2 = await hub.waitForSession(ID, 2);
    expect(await hub.waitForInfo(s2)).toMatchObject({
      fw_version: '2.0.0',
      fw_id: '20250301-101010',
      app: 'demo-app',
      reboot_reason: 'soft reset',
    });
    expect(await s2.result('OTA.GetBootState')).toEqual({
      active_slot: 1,
      is_committed: false,
      revert_slot: 0,
      commit_timeout: 60,
    });
    expect(await s2.result('OTA.Commit')).toBe(true);
    expect(await s2.result('OTA.GetBootState')).toMatchObject({
      active_slot: 1,
      is_committed: true,
    });

    await s2.result('Sys.Reboot', { delay_ms: 10 });
    const s3 = await hub.waitForSession(ID, 3);
    expect(await hub.waitForInfo(s3)).toMatchObject({ fw_version: '2.0.0' });
    expect(boots).toEqual(['new', 'same']);
  });

  it('reverts to the previous image when the commit timeout expires', async () => {
    const { hub, dev, session } = await setup();
    const boots: string[] = [];
    dev.on('boot', (b) => boots.push(b));
    await sendImage(session, fwZip('3.0.0', 'b3', 3000), 0.3);
    const s2 = await hub.waitForSession(ID, 2);
    expect(await hub.waitForInfo(s2)).toMatchObject({ fw_version: '3.0.0' });
    const t0 = performance.now();
    const s3 = await hub.waitForSession(ID, 3, 3000);
    expect(performance.now() - t0).toBeGreaterThan(150);
    expect(await hub.waitForInfo(s3)).toMatchObject({ fw_version: '1.0.0', fw_id: 'build-1' });
    expect(await s3.result('OTA.GetBootState')).toMatchObject({
      active_slot: 0,
      is_committed: true,
    });
    expect(boots).toEqual(['new', 'reverted']);
    // Nothing left to revert now.
    expect(((await s3.call('OTA.Revert')).error as { code: number }).code).toBe(-1);
  });

  it('OTA.Revert reboots into the previous image at once', async () => {
    const { hub, session } = await setup();
    await sendImage(session, fwZip('4.0.0', 'b4', 2500), 600);
    const s2 = await hub.waitForSession(ID, 2);
    expect(await hub.waitForInfo(s2)).toMatchObject({ fw_version: '4.0.0' });
    expect(await s2.result('OTA.Revert')).toBe(true);
    const s3 = await hub.waitForSession(ID, 3);
    expect(await hub.waitForInfo(s3)).toMatchObject({ fw_version: '1.0.0' });
  });

  it('a raw .bin reports the sha256 prefix of the image as fw_id', async () => {
    const { hub, session } = await setup();
    const image = Buffer.alloc(5000, 0x5a);
    await sendImage(session, image, 0);
    const s2 = await hub.waitForSession(ID, 2);
    const sha = createHash('sha256').update(image).digest('hex').slice(0, 16);
    expect(await hub.waitForInfo(s2)).toMatchObject({ fw_id: sha });
    expect(await s2.result('OTA.GetBootState')).toMatchObject({ is_committed: true }); // commit_timeout 0
  });

  it('honours offsets: a gap is refused, a repeated chunk rewrites, the upload stays intact', async () => {
    const { hub, dev, session } = await setup();
    const image = fwZip('5.0.0', 'b5', 5000);
    await session.result('OTA.Begin', { size: image.length, commit_timeout: 0 });
    await session.result('OTA.Write', {
      offset: 0,
      data: image.subarray(0, 2048).toString('base64'),
    });
    const skip = await session.call('OTA.Write', {
      offset: 4096,
      data: image.subarray(4096, 6144).toString('base64'),
    });
    expect(skip.error).toEqual({ code: -1, message: 'unexpected offset 4096, expected 2048' });
    // The hub retrying a chunk whose reply it lost: the same bytes again, at the same offset.
    expect(
      await session.result('OTA.Write', {
        offset: 0,
        data: image.subarray(0, 2048).toString('base64'),
      }),
    ).toBe(true);
    const early = await session.call('OTA.Begin', { size: 10 });
    expect(early.error).toEqual({ code: -1, message: 'OTA already in progress' });
    for (let offset = 2048; offset < image.length; offset += 2048) {
      await session.result('OTA.Write', {
        offset,
        data: image.subarray(offset, offset + 2048).toString('base64'),
      });
    }
    await session.result('OTA.End');
    const s2 = await hub.waitForSession(ID, 2);
    expect(await hub.waitForInfo(s2)).toMatchObject({ fw_version: '5.0.0' });
    expect(dev.connected).toBe(true);
  });

  it('an incomplete image is refused at OTA.End and never booted', async () => {
    const { dev, session } = await setup();
    await session.result('OTA.Begin', { size: 4000 });
    await session.result('OTA.Write', { offset: 0, data: Buffer.alloc(1000).toString('base64') });
    expect((await session.call('OTA.End')).error).toEqual({
      code: -1,
      message: 'incomplete image: got 1000 of 4000 bytes',
    });
    expect((await session.call('OTA.Begin', { size: -5 })).error).toMatchObject({ code: -32602 });
    await new Promise((r) => setTimeout(r, 100));
    expect(dev.counters.sessions).toBe(1); // no reboot happened
    expect(await session.result('Sys.GetInfo')).toMatchObject({ fw_version: '1.0.0' });
  });

  it('a dropped session aborts the upload; the hub starts over with OTA.Begin', async () => {
    const { hub, session } = await setup();
    await session.result('OTA.Begin', { size: 4096 });
    await session.result('OTA.Write', { offset: 0, data: Buffer.alloc(2048).toString('base64') });
    session.ws.terminate();
    const s2 = await hub.waitForSession(ID, 2);
    await hub.waitForInfo(s2);
    const w = await s2.call('OTA.Write', {
      offset: 2048,
      data: Buffer.alloc(2048).toString('base64'),
    });
    expect(w.error).toEqual({ code: -1, message: 'call OTA.Begin first' });
    expect(await s2.result('OTA.Begin', { size: 4096 })).toBe(true);
  });
});

describe('SimDevice OTA, Arduino / ESP-IDF mDash library family (PROTOCOL.md 6)', () => {
  it('sends each State.Set before the reply of the call that caused it, as the library does', async () => {
    // rpc_ota_begin/write/end call mDashNotify (sent at once) before mg_rpc_ok / mg_rpc_err
    // (sent when the handler returns), so the hub reads the progress first.
    const { session } = await setup({ family: 'arduino', arch: 'esp32' });
    const image = espAppImage({ date: 'Dec  6 2026', time: '10:00:00', size: 5000 });
    const from = session.frames.length;
    expect(await session.result('OTA.Begin', { size: image.length })).toBe(true);
    for (let offset = 0; offset < image.length; offset += 2048) {
      const data = image.subarray(offset, offset + 2048).toString('base64');
      expect(await session.result('OTA.Write', { offset, data })).toHaveProperty('queued');
    }
    expect(await session.result('OTA.End')).toBe(true);
    const order = session.frames.slice(from).map((f) => {
      const j = f.json ?? {};
      if (j['method'] === 'State.Set') {
        return `State.Set ${String((j['params'] as { ota: { percent: unknown } }).ota.percent)}`;
      }
      return 'id' in j ? `reply ${String(j['id'])}` : String(j['method']);
    });
    const begin = Number(order.find((o) => o.startsWith('reply'))?.split(' ')[1]);
    expect(order).toEqual([
      'State.Set 0',
      `reply ${begin}`,
      'State.Set 40',
      `reply ${begin + 1}`,
      'State.Set 81',
      `reply ${begin + 2}`,
      'State.Set 100',
      `reply ${begin + 3}`,
      'State.Set null',
      `reply ${begin + 4}`,
    ]);
  });

  it('writes each State.Set and the reply behind it in one write, as Mongoose flushes its buffer', async () => {
    // mg_ws_send only appends to the connection's send buffer; the next poll sends it whole, so
    // the hub reads the progress and the reply in one segment (one wake-up per chunk, not two).
    // Frames from a client are masked, so the device's writes are counted, not read.
    const { hub, session } = await setup({ family: 'arduino', arch: 'esp32' });
    const port = Number(new URL(hub.url).port);
    let deviceWrites = 0;
    type Write = (this: Socket, ...args: unknown[]) => void;
    const proto = Socket.prototype as unknown as { _write: Write; _writev: Write };
    const originals = { _write: proto._write, _writev: proto._writev };
    for (const k of ['_write', '_writev'] as const) {
      proto[k] = function (this: Socket, ...args: unknown[]) {
        if (this.remotePort === port) deviceWrites++;
        originals[k].apply(this, args);
      };
    }
    try {
      const image = espAppImage({ date: 'Dec  6 2026', time: '10:00:01', size: 5000 });
      await session.result('OTA.Begin', { size: image.length });
      for (let offset = 0; offset < image.length; offset += 2048) {
        const data = image.subarray(offset, offset + 2048).toString('base64');
        await session.result('OTA.Write', { offset, data });
      }
      await session.result('OTA.End');
    } finally {
      Object.assign(proto, originals);
    }
    // Begin, three writes, End: each a State.Set and a reply, in one write each.
    expect(session.notifications('State.Set').length).toBeGreaterThanOrEqual(5);
    expect(deviceWrites).toBe(5);
  });
});
