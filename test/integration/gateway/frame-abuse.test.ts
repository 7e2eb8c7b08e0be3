import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawDevice,
  deviceUrl,
  sleep,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject } from '../../../src/shared/types';

describe('frame abuse leaves the hub and other sessions healthy (PROTOCOL.md 2)', () => {
  let t: TestHub;
  let bad: DeviceObject;
  let good: DeviceObject;
  let rogue: RawDevice;
  let healthy: RawDevice;

  beforeAll(async () => {
    t = await startTestHub();
    bad = await t.createDevice({ name: 'rogue' });
    good = await t.createDevice({ name: 'healthy' });
    rogue = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${bad.token}` },
    });
    healthy = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${good.token}` },
    });
    await rogue.answerGetInfo();
    await healthy.answerGetInfo();
    await waitFor(() => t.hub.services().gateway.onlineCount === 2);
  });
  afterAll(async () => {
    await t.stop();
  });

  let pings = 0;
  async function healthyStillWorks(): Promise<void> {
    const method = `Ping${++pings}`;
    const pending = t.api('POST', `/api/v2/devices/${good.id}/rpc/${method}`, {});
    healthy.reply(await healthy.call(method), 'pong');
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.body).toBe('pong');
  }

  it('drops invalid JSON, non-objects, wrong types, binary frames, and counts them', async () => {
    const stats = t.hub.services().gateway.stats;
    const before = stats.droppedTotal();
    rogue.send('{not json');
    rogue.send('[1,2,3]');
    rogue.send('"hello"');
    rogue.send({ method: 42, id: 1 });
    rogue.send({ method: 'X', id: { nested: true } });
    rogue.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await waitFor(() => stats.droppedTotal() - before >= 6);
    expect(rogue.ws.readyState).toBe(rogue.ws.OPEN);
    // Nothing was answered for junk.
    await sleep(50);
    expect(rogue.frames.filter((f) => 'error' in f)).toHaveLength(0);
    await healthyStillWorks();
  });

  it('drops a text frame with invalid UTF-8, counts it, and keeps the session (not 1007)', async () => {
    const stats = t.hub.services().gateway.stats;
    const before = stats.dropped.get('invalid_utf8') ?? 0;
    // A lone continuation byte and a truncated sequence inside otherwise valid JSON, sent as
    // text: ws would close such a session with 1007 unless the gateway validates it itself.
    rogue.ws.send(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0xe2, 0x82, 0x22, 0x7d]), {
      binary: false,
    });
    await waitFor(() => (stats.dropped.get('invalid_utf8') ?? 0) === before + 1);
    await sleep(50);
    expect(rogue.ws.readyState).toBe(rogue.ws.OPEN);
    rogue.send({ id: 78, method: 'Dash.Heartbeat', params: {} });
    expect((await rogue.next((f) => f['id'] === 78))['result']).toBe(true);
    await healthyStillWorks();
  });

  it('drops a 1 MB frame without closing the session', async () => {
    const stats = t.hub.services().gateway.stats;
    const before = stats.dropped.get('too_large') ?? 0;
    rogue.send({
      method: 'Dash.Shadow.Update',
      params: { state: { reported: { big: 'x'.repeat(1024 * 1024) } } },
    });
    await waitFor(() => (stats.dropped.get('too_large') ?? 0) > before);
    expect(rogue.ws.readyState).toBe(rogue.ws.OPEN);
    const shadow = await t.api<{ state: { reported: Record<string, unknown> } }>(
      'GET',
      `/api/v2/devices/${bad.id}/shadow`,
    );
    expect(shadow.body.state.reported['big']).toBeUndefined();
    // The session still works after it.
    rogue.send({ id: 77, method: 'Dash.Heartbeat', params: {} });
    expect((await rogue.next((f) => f['id'] === 77))['result']).toBe(true);
  });

  it('never answers replies or id-less errors, even in a storm', async () => {
    const stats = t.hub.services().gateway.stats;
    const before = stats.droppedTotal();
    const framesBefore = rogue.frames.length;
    for (let i = 0; i < 2000; i++) {
      rogue.send(
        i % 2 ? { id: 100000 + i, result: 'x' } : { error: { code: -1, message: 'bad frame' } },
      );
    }
    await waitFor(() => stats.droppedTotal() - before >= 2000, 10000);
    await sleep(100);
    expect(rogue.frames.length).toBe(framesBefore);
    await healthyStillWorks();
  });

  it('replies -32601 to unknown methods with an id, echoes tag, ignores src/dst/key', async () => {
    rogue.send({
      id: 5,
      method: 'No.Such',
      params: {},
      tag: 'T1',
      src: 'spoof',
      dst: 'other',
      key: 'k',
    });
    const reply = await rogue.next((f) => f['id'] === 5);
    expect(reply).toEqual({
      id: 5,
      error: { code: -32601, message: 'method not found' },
      tag: 'T1',
    });
    // A notification (no id) for an unknown method gets no reply.
    rogue.send({ method: 'No.Such.Either', params: {} });
    await sleep(50);
    expect(rogue.frames.some((f) => f['id'] === undefined && 'error' in f)).toBe(false);
  });

  it('accepts jsonrpc 2.0 frames and string ids but does not require them', async () => {
    rogue.send({ jsonrpc: '2.0', id: 'abc', method: 'Dash.Heartbeat', params: {} });
    const r = await rogue.next((f) => f['id'] === 'abc');
    expect(r['result']).toBe(true);
  });

  it('rejects a stale shadow version from a device with an error reply, shadow unchanged', async () => {
    const cur = await t.api<{ version: number }>('GET', `/api/v2/devices/${bad.id}/shadow`);
    rogue.send({
      id: 9,
      method: 'Dash.Shadow.Update',
      params: { state: { reported: { a: 1 } }, version: cur.body.version + 5 },
    });
    const r = await rogue.next((f) => f['id'] === 9);
    expect((r['error'] as { code: number }).code).toBe(409);
    const after = await t.api<{ version: number }>('GET', `/api/v2/devices/${bad.id}/shadow`);
    expect(after.body.version).toBe(cur.body.version);
  });

  it('stays up when a device sends wrong types to known methods', async () => {
    rogue.send({ id: 10, method: 'Dash.Shadow.Update', params: 'not an object' });
    rogue.send({ id: 11, method: 'Dash.Shadow.Update', params: { state: { reported: [1, 2] } } });
    const r10 = await rogue.next((f) => f['id'] === 10);
    const r11 = await rogue.next((f) => f['id'] === 11);
    expect((r10['error'] as { code: number }).code).toBe(-32602);
    expect((r11['error'] as { code: number }).code).toBe(-32602);
    await healthyStillWorks();
    const status = await t.api<{ online: number }>('GET', '/api/v2/hub');
    expect(status.body.online).toBe(2);
  });
});
