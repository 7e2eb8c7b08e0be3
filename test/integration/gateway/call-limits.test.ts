/**
 * Calls the hub sends to one device (issue 7 item 15, PROTOCOL.md 2): at most
 * `limits.maxPendingCallsPerDevice` wait at once, whoever starts them (the REST bridge or the hub
 * itself, e.g. Shadow.Delta), and a reply to one of them may be up to `limits.maxReplyBytes`
 * while every other frame keeps the 8 KB message limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawDevice,
  connectOnline,
  sleep,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject, Json } from '../../../src/shared/types';

const MAX_PENDING = 3;
const MAX_MESSAGE = 8 * 1024;
const MAX_REPLY = 64 * 1024;

/** A frame of exactly `bytes` bytes: `head` followed by a padding string and `}`. */
function sized(head: string, bytes: number): string {
  const frame = (k: number): string => `${head}"${'x'.repeat(k)}"}`;
  return frame(bytes - Buffer.byteLength(frame(0)));
}

describe('calls to a device: pending ceiling and large replies', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub({ limits: { maxPendingCallsPerDevice: MAX_PENDING } });
  });
  afterAll(async () => {
    await t.stop();
  });

  async function online(): Promise<{ dev: DeviceObject; raw: RawDevice }> {
    const dev = await t.createDevice();
    const raw = await connectOnline(t, dev);
    return { dev, raw };
  }

  it('calls the hub starts itself (Shadow.Delta) stop at maxPendingCallsPerDevice; REST then gets 429', async () => {
    const { dev, raw } = await online();
    const session = t.hub.services().gateway.session(dev.id);
    if (!session) throw new Error('no session');
    // The device never answers Shadow.Delta: each desired change leaves one call waiting.
    for (let i = 0; i < MAX_PENDING + 3; i++) {
      const r = await t.api('POST', `/api/v2/devices/${dev.id}/shadow`, {
        state: { desired: { n: i } },
      });
      expect(r.status).toBe(200);
    }
    await sleep(100);
    const deltas = raw.frames.filter((f) => f['method'] === 'Shadow.Delta');
    expect(deltas).toHaveLength(MAX_PENDING);
    expect(session.pending.size).toBe(MAX_PENDING);
    // A REST call meets the same full table: a coded 429, and no frame goes to the device.
    const framesBefore = raw.frames.length;
    const r = await t.api<{ error: { code: number } }>(
      'POST',
      `/api/v2/devices/${dev.id}/rpc/Extra`,
      {},
    );
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe(4293);
    // Through the gateway directly (as OTA or FS would call): the same coded refusal.
    await expect(t.hub.services().gateway.call(dev.id, 'Direct', null)).rejects.toMatchObject({
      kind: 'too_many_calls',
    });
    await sleep(50);
    expect(raw.frames.length).toBe(framesBefore);
    // Answering one frees one slot: the next call goes out.
    raw.reply(deltas[0] as Record<string, Json>, null);
    await waitFor(() => session.pending.size === MAX_PENDING - 1);
    const pending = t.api('POST', `/api/v2/devices/${dev.id}/rpc/After`, {});
    raw.reply(await raw.call('After'), 'ok');
    expect((await pending).status).toBe(200);
    raw.close();
    await raw.closed();
  });

  it('sequential calls (one at a time) never meet the ceiling', async () => {
    const { dev, raw } = await online();
    for (let i = 0; i < MAX_PENDING * 3; i++) {
      const method = `Seq${i}`;
      const pending = t.hub.services().gateway.call(dev.id, method, { i });
      raw.reply(await raw.call(method), i);
      expect(await pending).toBe(i);
    }
    raw.close();
    await raw.closed();
  });

  it('a reply to a pending call may be up to maxReplyBytes; one byte more is dropped and counted', async () => {
    const { dev, raw } = await online();
    const stats = t.hub.services().gateway.stats;
    const gw = t.hub.services().gateway;

    const atLimit = gw.call(dev.id, 'FS.Get', { offset: 0 }, 3000);
    const call1 = await raw.call('FS.Get');
    const frame = sized(`{"id":${String(call1['id'])},"result":`, MAX_REPLY);
    expect(Buffer.byteLength(frame)).toBe(MAX_REPLY);
    raw.send(frame);
    const envelope = Buffer.byteLength(`{"id":${String(call1['id'])},"result":""}`);
    expect(String(await atLimit)).toHaveLength(MAX_REPLY - envelope);

    const tooLargeBefore = stats.dropped.get('too_large') ?? 0;
    const over = gw.call(dev.id, 'FS.Get', { offset: 1 }, 500);
    const call2 = await raw.next((f) => f['method'] === 'FS.Get' && f['id'] !== call1['id']);
    raw.send(sized(`{"id":${String(call2['id'])},"result":`, MAX_REPLY + 1));
    await waitFor(() => (stats.dropped.get('too_large') ?? 0) === tooLargeBefore + 1);
    await expect(over).rejects.toMatchObject({ kind: 'device_timeout' });
    expect(raw.ws.readyState).toBe(raw.ws.OPEN);
    raw.close();
    await raw.closed();
  });

  it('frames over 8 KB that are not replies to a pending call are still dropped and counted', async () => {
    const { dev, raw } = await online();
    const stats = t.hub.services().gateway.stats;
    const gw = t.hub.services().gateway;
    const waiting = gw.call(dev.id, 'Slow', null, 2000);
    const call = await raw.call('Slow');
    const id = String(call['id']);
    const before = stats.dropped.get('too_large') ?? 0;
    const unknownBefore = stats.dropped.get('unknown_reply') ?? 0;
    // At the message limit, a notification is processed as usual.
    raw.send(sized('{"method":"Dash.Heartbeat","params":', MAX_MESSAGE));
    // One byte over: a notification, a request reusing the pending id, a reply to another id.
    raw.send(sized('{"method":"Dash.Heartbeat","params":', MAX_MESSAGE + 1));
    raw.send(sized(`{"id":${id},"method":"Dash.Heartbeat","params":`, MAX_MESSAGE + 1));
    raw.send(sized('{"id":999999,"result":', MAX_MESSAGE + 1));
    await waitFor(() => (stats.dropped.get('too_large') ?? 0) === before + 3);
    // A small reply to an unknown id is an unknown reply, as before.
    raw.send({ id: 999998, result: 1 });
    await waitFor(() => (stats.dropped.get('unknown_reply') ?? 0) === unknownBefore + 1);
    // The pending call still gets its (large) answer.
    raw.send(sized(`{"id":${id},"result":`, MAX_MESSAGE + 1));
    expect(typeof (await waiting)).toBe('string');
    expect(stats.dropped.get('too_large') ?? 0).toBe(before + 3);
    raw.close();
    await raw.closed();
  });
});
