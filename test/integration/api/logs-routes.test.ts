/**
 * `POST /api/v2/logs` (PROTOCOL.md 4, 7): every notification is stored and can be read back,
 * newest last, filtered by device and by name (a trailing `*` selects a family).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawDevice,
  deviceUrl,
  startTestHub,
  waitFor,
  type ErrorBody,
  type TestHub,
} from '../../support/hub-harness';
import type { LogEntry } from '../../../src/shared/types';

describe('stored notifications (PROTOCOL.md 7)', () => {
  let t: TestHub;
  let all: LogEntry[];

  async function logs(body?: unknown): Promise<LogEntry[]> {
    const r = await t.api<LogEntry[]>('POST', '/api/v2/logs', body);
    expect(r.status, r.text).toBe(200);
    return r.body;
  }

  beforeAll(async () => {
    t = await startTestHub();
    await t.createDevice({ id: 'log-a' });
    await t.createDevice({ id: 'log-b' });
    await t.api('PUT', '/api/v2/devices/log-a', { name: 'A' });
    await t.api('PUT', '/api/v2/devices/log-b', { name: 'B' });
    const b = (await t.api<{ token: string }>('GET', '/api/v2/devices/log-b')).body;
    const dev = await RawDevice.connect(deviceUrl(t), {
      headers: { authorization: `Bearer ${b.token}` },
    });
    await dev.answerGetInfo();
    dev.send({ method: 'Log', params: { fd: 1, data: 'hello\n', t: 1, seq: 1 } });
    dev.send({ method: 'Custom.Event', params: { n: 1 } });
    dev.send({ method: 'rpc_out_decoy', params: null });
    await waitFor(async () => (await logs()).some((e) => e.name === 'rpc.out.rpc_out_decoy'));
    dev.close();
    await dev.closed();
    await waitFor(async () => (await logs()).some((e) => e.name === 'offline'));
    await t.api('DELETE', '/api/v2/devices/log-a');
    await waitFor(async () => (await logs()).some((e) => e.name === 'deleted'));
    all = await logs({ start: 0, limit: 10_000 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('returns entries as {seq, timestamp, name, id, data}, oldest first and newest last', () => {
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const e of all) {
      expect(Object.keys(e).sort()).toEqual(['data', 'id', 'name', 'seq', 'timestamp']);
    }
    for (let i = 1; i < all.length; i++) {
      const prev = all[i - 1];
      const cur = all[i];
      expect(cur && prev && cur.seq > prev.seq).toBe(true);
      expect(cur && prev && cur.timestamp >= prev.timestamp).toBe(true);
    }
    expect(all[0]?.name).toBe('created');
    expect(all[0]?.id).toBe('log-a');
    expect(all.at(-1)?.name).toBe('deleted');
    expect(all.at(-1)?.data).toEqual({ id: 'log-a' });
    const now = Date.now();
    for (const e of all) expect(Math.abs(now - e.timestamp)).toBeLessThan(60_000);
  });

  it('with no body, returns the latest entries too', async () => {
    expect(await logs()).toEqual(all.slice(-100));
  });

  it('limit takes the newest entries; start skips that many of the newest', async () => {
    expect(await logs({ start: 0, limit: 3 })).toEqual(all.slice(-3));
    expect(await logs({ start: 2, limit: 3 })).toEqual(all.slice(-5, -2));
    expect(await logs({ start: all.length, limit: 3 })).toEqual([]);
    expect(await logs({ start: all.length - 1, limit: 5 })).toEqual(all.slice(0, 1));
  });

  it('filters by device', async () => {
    const a = await logs({ device: 'log-a' });
    expect(a.length).toBeGreaterThan(0);
    expect(a).toEqual(all.filter((e) => e.id === 'log-a'));
    expect(a.map((e) => e.name)).toEqual(['created', 'updated', 'deleted']);
    expect(await logs({ device: 'nobody' })).toEqual([]);
  });

  it('filters by exact name and by a name family with a trailing *', async () => {
    const created = await logs({ name: 'created' });
    expect(created.map((e) => e.id)).toEqual(['log-a', 'log-b']);
    const out = await logs({ name: 'rpc.out.*' });
    expect(out.map((e) => e.name)).toEqual([
      'rpc.out.Log',
      'rpc.out.Custom.Event',
      'rpc.out.rpc_out_decoy',
    ]);
    expect(out[0]?.data).toEqual({ fd: 1, data: 'hello\n', t: 1, seq: 1 });
    const rpc = await logs({ name: 'rpc.*' });
    expect(rpc).toEqual(all.filter((e) => e.name.startsWith('rpc.')));
    expect(rpc.some((e) => e.name === 'rpc.in.Sys.GetInfo')).toBe(true);
    // An exact name is not a prefix, and LIKE wildcards in the name are literal.
    expect(await logs({ name: 'rpc.out' })).toEqual([]);
    expect(await logs({ name: 'rpc_out.*' })).toEqual([]);
    expect(await logs({ name: 'rpc%' })).toEqual([]);
    expect((await logs({ name: 'rpc.out.rpc_out_*' })).map((e) => e.name)).toEqual([
      'rpc.out.rpc_out_decoy',
    ]);
  });

  it('combines device, name, start and limit', async () => {
    const r = await logs({ device: 'log-b', name: 'rpc.out.*', start: 1, limit: 1 });
    expect(r.map((e) => e.name)).toEqual(['rpc.out.Custom.Event']);
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 10_001 }, 'limit'],
    [{ start: -1 }, 'start'],
    [{ start: 1.5 }, 'start'],
    [{ device: 5 }, 'device'],
    [{ name: ['x'] }, 'name'],
  ])('refuses %j with 400 naming the field', async (body, field) => {
    const r = await t.api<ErrorBody>('POST', '/api/v2/logs', body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(4002);
    expect(r.body.error.message).toContain(field);
  });
});
