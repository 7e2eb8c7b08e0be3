/**
 * The device shadow over REST (PROTOCOL.md 3, 4 `GET/POST /devices/:id/shadow`): merge rules,
 * delta, versioning, the 8 KB limit at its edge, and the `Shadow.Delta` push to an online device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawDevice,
  deviceUrl,
  openNotify,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import type { DeviceObject, Json, JsonObject, ShadowDoc } from '../../../src/shared/types';

const MAX_SHADOW_BYTES = 8 * 1024;

interface ErrorBody {
  error: { code: number; message: string };
}

describe('shadow over REST (PROTOCOL.md 3)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  const shadowPath = (id: string): string => `/api/v2/devices/${id}/shadow`;

  async function getShadow(id: string): Promise<ShadowDoc> {
    const r = await t.api<ShadowDoc>('GET', shadowPath(id));
    expect(r.status).toBe(200);
    return r.body;
  }

  // Each step is applied to the result of the previous one; `bump` is how much the version moves.
  const steps: Array<{
    what: string;
    body: unknown;
    bump: 0 | 1;
    desired?: JsonObject;
    reported?: JsonObject;
    delta?: JsonObject;
    tags?: JsonObject;
  }> = [
    {
      what: 'desired merge into an empty shadow',
      body: { state: { desired: { a: 1, b: { c: 2 } } } },
      bump: 1,
      desired: { a: 1, b: { c: 2 } },
      delta: { a: 1, b: { c: 2 } },
    },
    {
      what: 'the same update again is a no-op',
      body: { state: { desired: { a: 1, b: { c: 2 } } } },
      bump: 0,
      desired: { a: 1, b: { c: 2 } },
    },
    {
      what: 'a nested merge keeps siblings',
      body: { state: { desired: { b: { d: 3 } } } },
      bump: 1,
      desired: { a: 1, b: { c: 2, d: 3 } },
    },
    {
      what: 'null deletes a key',
      body: { state: { desired: { a: null } } },
      bump: 1,
      desired: { b: { c: 2, d: 3 } },
      delta: { b: { c: 2, d: 3 } },
    },
    {
      what: 'deleting the last keys removes the emptied object',
      body: { state: { desired: { b: { c: null, d: null } } } },
      bump: 1,
      desired: {},
      delta: {},
    },
    {
      what: 'deleting a key that is not there is a no-op',
      body: { state: { desired: { gone: null } } },
      bump: 0,
      desired: {},
    },
    {
      what: 'reported merges; no desired means no delta',
      body: { state: { reported: { temp: 20, fw: { v: '1.0' } } } },
      bump: 1,
      reported: { temp: 20, fw: { v: '1.0' } },
      delta: {},
    },
    {
      what: 'a desired value that differs from reported appears in delta',
      body: { state: { desired: { temp: 21, fw: { v: '1.0' } } } },
      bump: 1,
      delta: { temp: 21 },
    },
    {
      what: 'delta disappears when reported catches up',
      body: { state: { reported: { temp: 21 } } },
      bump: 1,
      reported: { temp: 21, fw: { v: '1.0' } },
      delta: {},
    },
    {
      what: 'arrays compare as whole values',
      body: { state: { desired: { list: [1, 2] }, reported: { list: [1] } } },
      bump: 1,
      delta: { list: [1, 2] },
    },
    {
      what: 'arrays are replaced, not merged',
      body: { state: { reported: { list: [1, 2] } } },
      bump: 1,
      delta: {},
    },
    {
      what: 'tags merge',
      body: { tags: { labels: 'lab,bench' } },
      bump: 1,
      tags: { labels: 'lab,bench' },
    },
    {
      what: 'tags merge again, keeping the others',
      body: { tags: { room: 'B2' } },
      bump: 1,
      tags: { labels: 'lab,bench', room: 'B2' },
    },
    {
      what: 'a client cannot write delta',
      body: { state: { delta: { injected: true } } },
      bump: 0,
      delta: {},
    },
    {
      what: 'an empty body changes nothing',
      body: {},
      bump: 0,
    },
    {
      what: 'desired: null clears desired',
      body: { state: { desired: null } },
      bump: 1,
      desired: {},
      delta: {},
    },
  ];

  it('applies a table of updates: merge, null-delete, delta, tags, version +1 per change', async () => {
    await t.createDevice({ id: 'table' });
    let prev = await getShadow('table');
    expect(prev.version).toBe(0);
    for (const step of steps) {
      const r = await t.api<ShadowDoc>('POST', shadowPath('table'), step.body);
      expect(r.status, step.what).toBe(200);
      const doc = r.body;
      expect(doc.version, step.what).toBe(prev.version + step.bump);
      if (step.bump === 0) expect(doc, step.what).toEqual(prev);
      if (step.desired) expect(doc.state.desired, step.what).toEqual(step.desired);
      if (step.reported) expect(doc.state.reported, step.what).toEqual(step.reported);
      if (step.delta) expect(doc.state.delta, step.what).toEqual(step.delta);
      if (step.tags) expect(doc.tags, step.what).toEqual(step.tags);
      expect(await getShadow('table'), step.what).toEqual(doc);
      prev = doc;
    }
  });

  it('applies an update carrying the current version; a stale one is 409 and changes nothing', async () => {
    await t.createDevice({ id: 'versioned' });
    const v1 = (
      await t.api<ShadowDoc>('POST', shadowPath('versioned'), {
        state: { desired: { x: 1 } },
      })
    ).body;
    expect(v1.version).toBe(1);
    const ok = await t.api<ShadowDoc>('POST', shadowPath('versioned'), {
      version: 1,
      state: { desired: { x: 2 } },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.version).toBe(2);
    const before = await getShadow('versioned');
    for (const version of [0, 1, 3, 1000]) {
      const stale = await t.api<ErrorBody>('POST', shadowPath('versioned'), {
        version,
        state: { desired: { x: 99 } },
      });
      expect(stale.status, `version ${version}`).toBe(409);
      expect(stale.body.error.code).toBe(4091);
    }
    expect(await getShadow('versioned')).toEqual(before);
  });

  it('of two concurrent updates with the same version, exactly one wins', async () => {
    await t.createDevice({ id: 'race' });
    const [a, b] = await Promise.all([
      t.api<ShadowDoc>('POST', shadowPath('race'), { version: 0, state: { desired: { w: 'a' } } }),
      t.api<ShadowDoc>('POST', shadowPath('race'), { version: 0, state: { desired: { w: 'b' } } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? 'a' : 'b';
    const doc = await getShadow('race');
    expect(doc.version).toBe(1);
    expect(doc.state.desired).toEqual({ w: winner });
  });

  it('refuses a document over 8 KB with 413 and accepts one exactly at the limit', async () => {
    await t.createDevice({ id: 'sized' });
    const start = await getShadow('sized');
    // The document after `{"tags":{"pad":"<n x>"}}`, in the key order the hub stores it.
    const projected = (n: number): number =>
      Buffer.byteLength(
        JSON.stringify({
          state: { desired: {}, reported: {}, delta: {} },
          tags: { pad: 'x'.repeat(n) },
          version: start.version + 1,
          timestamp: Math.floor(Date.now() / 1000),
        }),
      );
    const fit = MAX_SHADOW_BYTES - projected(0);
    expect(projected(fit)).toBe(MAX_SHADOW_BYTES);

    const over = await t.api<ErrorBody>('POST', shadowPath('sized'), {
      tags: { pad: 'x'.repeat(fit + 1) },
    });
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe(4131);
    expect(await getShadow('sized')).toEqual(start);

    const edge = await t.api<ShadowDoc>('POST', shadowPath('sized'), {
      tags: { pad: 'x'.repeat(fit) },
    });
    expect(edge.status).toBe(200);
    expect(Buffer.byteLength(edge.text)).toBe(MAX_SHADOW_BYTES);
    expect(edge.body.version).toBe(start.version + 1);

    // One more byte anywhere is refused, and the document at the edge stays as it was.
    const grow = await t.api<ErrorBody>('POST', shadowPath('sized'), {
      state: { desired: { y: 1 } },
    });
    expect(grow.status).toBe(413);
    expect(await getShadow('sized')).toEqual(edge.body);
    // Shrinking is always allowed.
    const shrink = await t.api<ShadowDoc>('POST', shadowPath('sized'), { tags: { pad: null } });
    expect(shrink.status).toBe(200);
    expect(shrink.body.tags).toEqual({});
  });

  it.each([
    ['a string body', '"hello"'],
    ['desired as an array', { state: { desired: [1] } }],
    ['state as a string', { state: 'on' }],
    ['a negative version', { version: -1 }],
    ['a fractional version', { version: 1.5 }],
    ['tags as a number', { tags: 3 }],
  ])('refuses %s with 400 and leaves the shadow unchanged', async (_what, body) => {
    const id = `bad-${Math.random().toString(36).slice(2, 8)}`;
    await t.createDevice({ id });
    await t.api('POST', shadowPath(id), { state: { desired: { keep: true } } });
    const before = await getShadow(id);
    const r = await t.api<ErrorBody>('POST', shadowPath(id), body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(4002);
    expect(await getShadow(id)).toEqual(before);
  });

  it('refuses a body nested too deep with 400 (and the hub stays up)', async () => {
    await t.createDevice({ id: 'deep' });
    // Built as text: the test process would overflow its own stack stringifying it.
    const nested = '{"n":'.repeat(5000) + '1' + '}'.repeat(5000);
    const body = `{"state":{"desired":${nested}}}`;
    const r = await t.api<ErrorBody>('POST', shadowPath('deep'), body);
    expect(r.status).toBe(400);
    expect((await getShadow('deep')).version).toBe(0);
  });

  it('404s the shadow of an unknown device, for GET and POST', async () => {
    for (const [method, body] of [['GET'], ['POST', { state: { desired: {} } }]] as const) {
      const r = await t.api<ErrorBody>(method, shadowPath('nobody'), body);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe(4041);
    }
  });

  describe('with the device online', () => {
    let dev: DeviceObject;
    let raw: RawDevice;
    let notify: Awaited<ReturnType<typeof openNotify>>;

    beforeAll(async () => {
      dev = await t.createDevice({ id: 'online-1' });
      notify = await openNotify(t);
      raw = await RawDevice.connect(deviceUrl(t), {
        headers: { authorization: `Bearer ${dev.token}` },
      });
      await raw.answerGetInfo();
      await waitFor(async () => (await getShadow(dev.id)).state.reported['ota'] !== undefined);
    });
    afterAll(async () => {
      notify.ws.close();
      raw.close();
      await raw.closed();
    });

    const deltaCalls = (): Array<Record<string, Json>> =>
      raw.frames.filter((f) => f['method'] === 'Shadow.Delta');

    it('pushes Shadow.Delta {state, version, timestamp} after a desired change, not after a reported-only one', async () => {
      expect(deltaCalls()).toHaveLength(0); // nothing to push at connect: the delta was empty
      const reportedOnly = await t.api<ShadowDoc>('POST', shadowPath(dev.id), {
        state: { reported: { rssi: -60 } },
      });
      expect(reportedOnly.status).toBe(200);
      // A desired change that leaves the delta empty does not push either.
      const matching = await t.api<ShadowDoc>('POST', shadowPath(dev.id), {
        state: { desired: { rssi: -60 } },
      });
      expect(matching.body.state.delta).toEqual({});
      const changed = await t.api<ShadowDoc>('POST', shadowPath(dev.id), {
        state: { desired: { led: 'on' } },
      });
      expect(changed.status).toBe(200);
      const call = await raw.call('Shadow.Delta');
      // Frames arrive in order: the first push is the one for the desired change.
      expect(call['params']).toEqual({
        state: { led: 'on' },
        version: changed.body.version,
        timestamp: changed.body.timestamp,
      });
      expect(call['dst']).toBeUndefined();
      expect(typeof call['id']).toBe('number');
      expect(deltaCalls()).toHaveLength(1);
      raw.reply(call, true);

      const updated = await notify.next(
        (n) =>
          n.name === 'updated' &&
          n.id === dev.id &&
          (n.data as unknown as DeviceObject).shadow.version === changed.body.version,
      );
      const obj = updated.data as unknown as DeviceObject;
      expect(obj.online).toBe(true);
      expect(obj.shadow).toEqual(changed.body);
    });

    it('delta disappears when the device reports the desired value', async () => {
      const id = 77;
      raw.send({ id, method: 'Shadow.Update', params: { state: { reported: { led: 'on' } } } });
      const reply = await raw.next((f) => f['id'] === id && 'result' in f);
      expect(reply['result']).toBe(true);
      const doc = await getShadow(dev.id);
      expect(doc.state.delta).toEqual({});
      expect(doc.state.reported['led']).toBe('on');
      // A device-reported change does not push a delta back to it.
      const pushes = deltaCalls().length;
      const next = await t.api<ShadowDoc>('POST', shadowPath(dev.id), {
        state: { desired: { led: 'off' } },
      });
      const call = await raw.next(
        (f) =>
          f['method'] === 'Shadow.Delta' &&
          (f['params'] as JsonObject)['version'] === next.body.version,
      );
      expect(deltaCalls()).toHaveLength(pushes + 1);
      expect((call['params'] as JsonObject)['state']).toEqual({ led: 'off' });
    });

    it('a device update with a stale version gets an error reply and changes nothing', async () => {
      const before = await getShadow(dev.id);
      raw.send({
        id: 78,
        method: 'Shadow.Update',
        params: { version: before.version - 1, state: { reported: { led: 'x' } } },
      });
      const reply = await raw.next((f) => f['id'] === 78);
      expect(reply['error']).toBeDefined();
      expect(await getShadow(dev.id)).toEqual(before);
    });
  });
});
