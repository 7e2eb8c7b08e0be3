/**
 * Methods whose only action is their `rpc.out.<X>` notification (`State.Set`, `Log`,
 * `Dash.Heartbeat`; device-methods.ts `isAckOnly`): the session skips their handler for
 * notifications. Requests of them are still answered `true`, every frame still gets its
 * notification, in the order the device sent them (PROTOCOL.md 2 and 7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawDevice,
  connectOnline,
  openNotify,
  sleep,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject } from '../../../src/shared/types';

describe('acknowledge-only device methods', () => {
  let t: TestHub;
  let dev: DeviceObject;
  let raw: RawDevice;

  beforeAll(async () => {
    t = await startTestHub();
    dev = await t.createDevice({ name: 'ack' });
    raw = await connectOnline(t, dev);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers requests true, notifications not at all, and publishes each in order', async () => {
    const notify = await openNotify(t);
    const sent = [
      { method: 'State.Set', params: { ota: { percent: 1 } } },
      { id: 21, method: 'State.Set', params: { ota: { percent: 2 } } },
      { method: 'Log', params: { fd: 1, data: 'line\n', t: 1, seq: 1 } },
      { id: 22, method: 'Log', params: { fd: 1, data: 'line 2\n', t: 2, seq: 2 } },
      { method: 'Dash.Heartbeat', params: { uptime: 5 } },
      { id: 23, method: 'Dash.Heartbeat', params: { uptime: 6 } },
      { method: 'State.Set', params: { ota: { percent: null } } },
    ];
    for (const f of sent) raw.send(f);
    for (const id of [21, 22, 23]) {
      expect(await raw.next((f) => f['id'] === id)).toEqual({ id, result: true });
    }
    await waitFor(() => notify.events.filter((n) => n.id === dev.id).length >= sent.length);
    expect(
      notify.events
        .filter((n) => n.id === dev.id && n.name.startsWith('rpc.out.'))
        .map((n) => [n.name, n.data]),
    ).toEqual(sent.map((f) => [`rpc.out.${f.method}`, f.params]));
    await sleep(50);
    // Only the three requests were answered.
    expect(raw.frames.filter((f) => 'result' in f || 'error' in f).map((f) => f['id'])).toEqual(
      expect.arrayContaining([21, 22, 23]),
    );
    expect(
      raw.frames.filter((f) => f['id'] === undefined && ('result' in f || 'error' in f)),
    ).toEqual([]);
    notify.ws.close();
  });

  it('still answers an unknown request -32601 and an unknown notification with nothing', async () => {
    raw.send({ method: 'No.Such.Thing', params: {} });
    raw.send({ id: 31, method: 'No.Such.Thing', params: {} });
    expect(await raw.next((f) => f['id'] === 31)).toEqual({
      id: 31,
      error: { code: -32601, message: 'method not found' },
    });
  });
});
