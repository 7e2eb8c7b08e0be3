/**
 * A shadow update's `version` is a safe non-negative integer (issue 7 item 11 for shadows): a
 * huge value is a 400 naming the field, over REST and from a device, never a 409 or a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOnline, startTestHub, type TestHub } from '../../support/hub-harness';
import type { DeviceObject } from '../../../src/shared/types';

const HUGE = ['18446744073709551616', '9223372036854775808', '9007199254740992', '1e300'];

describe('shadow version range', () => {
  let t: TestHub;
  let dev: DeviceObject;

  beforeAll(async () => {
    t = await startTestHub();
    dev = await t.createDevice();
  });
  afterAll(async () => {
    await t.stop();
  });

  for (const v of HUGE) {
    it(`REST: version ${v} is a 400 naming the field, and the shadow is unchanged`, async () => {
      const r = await t.api<{ error: { code: number; message: string } }>(
        'POST',
        `/api/v2/devices/${dev.id}/shadow`,
        `{"version":${v},"state":{"desired":{"x":1}}}`,
      );
      expect(r.status).toBe(400);
      expect(r.body.error.message).toContain('version');
      const shadow = await t.api<{ state: { desired: Record<string, unknown> } }>(
        'GET',
        `/api/v2/devices/${dev.id}/shadow`,
      );
      expect(shadow.body.state.desired['x']).toBeUndefined();
    });
  }

  it('REST: the largest safe integer is a version conflict (409), not a 400', async () => {
    const r = await t.api('POST', `/api/v2/devices/${dev.id}/shadow`, {
      version: Number.MAX_SAFE_INTEGER,
      state: { desired: { x: 1 } },
    });
    expect(r.status).toBe(409);
  });

  it('a device: Shadow.Update with version 2^64 gets invalid params naming the field', async () => {
    const raw = await connectOnline(t, dev);
    raw.send(
      '{"id":41,"method":"Shadow.Update","params":{"version":18446744073709551616,"state":{"reported":{"y":1}}}}',
    );
    const reply = await raw.next((f) => f['id'] === 41);
    expect(reply['error']).toMatchObject({
      code: -32602,
      message: expect.stringContaining('version'),
    });
    raw.close();
    await raw.closed();
  });
});
