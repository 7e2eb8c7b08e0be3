/**
 * Hub-owned shadow keys (PROTOCOL.md 3 "Reserved": `reported.online`, `reported.ota`; issue 7
 * item 16): no REST client writes them (403, code 4031, nothing changes); a device may report
 * its own `ota` but never `online` (an invalid-params error reply, nothing changes).
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
import type { DeviceObject, ShadowDoc } from '../../../src/shared/types';

describe('reserved shadow keys (issue 7 item 16)', () => {
  let t: TestHub;
  const shadowPath = (id: string): string => `/api/v2/devices/${id}/shadow`;
  const getShadow = async (id: string): Promise<ShadowDoc> =>
    (await t.api<ShadowDoc>('GET', shadowPath(id))).body;

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  describe('through REST', () => {
    it.each([
      ['reported.online', { state: { reported: { online: true } } }, 'online'],
      ['reported.online = null', { state: { reported: { online: null } } }, 'online'],
      ['reported.ota', { state: { reported: { ota: { fw_version: 'fake' } } } }, 'ota'],
      ['reported.ota beside other keys', { state: { reported: { t: 1, ota: null } } }, 'ota'],
      ['reported = null (clears them)', { state: { reported: null } }, 'reported'],
    ])('POST /shadow writing %s is 403 with code 4031', async (_label, body, field) => {
      const d = await t.createDevice();
      const before = await getShadow(d.id);
      const r = await t.api<ErrorBody>('POST', shadowPath(d.id), body);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe(4031);
      expect(r.body.error.message).toContain(field);
      expect(await getShadow(d.id)).toEqual(before);
    });

    it('POST /devices/:id with a reserved shadow key changes nothing, not even the name', async () => {
      const d = await t.createDevice({ name: 'kept' });
      const r = await t.api<ErrorBody>('POST', `/api/v2/devices/${d.id}`, {
        name: 'renamed',
        shadow: { state: { reported: { online: true } } },
      });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe(4031);
      const after = await t.api<DeviceObject>('GET', `/api/v2/devices/${d.id}`);
      expect(after.body.name).toBe('kept');
      expect(after.body.shadow.state.reported).toEqual({});
    });

    it('the same names elsewhere are ordinary keys', async () => {
      const d = await t.createDevice();
      const r = await t.api<ShadowDoc>('POST', shadowPath(d.id), {
        state: { desired: { online: true, ota: 1 }, reported: { config: { online: 1 } } },
        tags: { online: 'yes' },
      });
      expect(r.status).toBe(200);
      expect(r.body.state.desired).toEqual({ online: true, ota: 1 });
    });
  });

  describe("through the device's own Shadow.Update", () => {
    let dev: DeviceObject;
    let raw: RawDevice;

    beforeAll(async () => {
      dev = await t.createDevice({ id: 'reserved-dev' });
      raw = await RawDevice.connect(deviceUrl(t), {
        headers: { authorization: `Bearer ${dev.token}` },
      });
      await raw.answerGetInfo();
      await waitFor(async () => (await getShadow(dev.id)).state.reported['ota'] !== undefined);
    });
    afterAll(() => {
      raw.close();
    });

    it('may report its own ota', async () => {
      raw.send({
        id: 1001,
        method: 'Shadow.Update',
        params: { state: { reported: { ota: { fw_version: '2.0' } } } },
      });
      const reply = await raw.next((f) => f['id'] === 1001);
      expect(reply['result']).toBe(true);
      expect((await getShadow(dev.id)).state.reported['ota']).toMatchObject({ fw_version: '2.0' });
    });

    it('may not report online: an invalid-params error reply, and nothing changes', async () => {
      const before = await getShadow(dev.id);
      expect(before.state.reported['online']).toBe(true);
      raw.send({
        id: 1002,
        method: 'Shadow.Update',
        params: { state: { reported: { online: false, temp: 20 } } },
      });
      const reply = await raw.next((f) => f['id'] === 1002);
      expect(reply['error']).toMatchObject({ code: -32602 });
      expect(await getShadow(dev.id)).toEqual(before);
      expect(t.hub.services().gateway.isOnline(dev.id)).toBe(true);
    });
  });
});
