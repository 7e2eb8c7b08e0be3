/**
 * Fleetbench extension (PROTOCOL.md 9, master key; issue 12 import): `POST /api/v2/devices` and
 * `POST /api/v2/customers/:id` accept a given `token`, so an imported device keeps the password
 * it was flashed with and a customer keeps the key in its links. A token in use is a 409, a
 * malformed one a 400, and on a customer update `token` stays read-only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceObject } from '../../../src/shared/types';
import {
  connectOnline,
  startTestHub,
  type ErrorBody,
  type TestHub,
} from '../../support/hub-harness';

let t: TestHub;
beforeEach(async () => {
  t = await startTestHub();
});
afterEach(async () => {
  await t.stop();
});

describe('given tokens', () => {
  it('creates a device with the given password, and it logs in with it', async () => {
    const r = await t.api<DeviceObject>('POST', '/api/v2/devices', {
      id: 'd1',
      token: 'Flashed-Pass_123',
    });
    expect(r.status).toBe(200);
    expect(r.body.token).toBe('Flashed-Pass_123');
    const dev = await connectOnline(t, { id: 'd1', token: 'Flashed-Pass_123' });
    dev.ws.close();
  });

  it('refuses a password another device has (409) and a malformed one (400)', async () => {
    await t.api('POST', '/api/v2/devices', { id: 'd1', token: 'Flashed-Pass_123' });
    const dup = await t.api<ErrorBody>('POST', '/api/v2/devices', {
      id: 'd2',
      token: 'Flashed-Pass_123',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe(409);
    for (const token of ['short', 'has space in it', 'x'.repeat(129)]) {
      const bad = await t.api<ErrorBody>('POST', '/api/v2/devices', { id: 'd3', token });
      expect(bad.status, token).toBe(400);
    }
    expect((await t.api('GET', '/api/v2/devices/d2')).status).toBe(404);
  });

  it('creates a customer with the given key, refuses one in use, ignores it on update', async () => {
    const r = await t.api<{ token: string }>('POST', '/api/v2/customers/c1', {
      email: 'a@example.com',
      token: 'cust-key-12345',
    });
    expect(r.status).toBe(200);
    expect(r.body.token).toBe('cust-key-12345');
    expect((await fetch(`${t.http}/customer?access_token=cust-key-12345`)).status).toBe(200);
    const dup = await t.api<ErrorBody>('POST', '/api/v2/customers/c2', {
      email: 'b@example.com',
      token: 'cust-key-12345',
    });
    expect(dup.status).toBe(409);
    const upd = await t.api<{ token: string }>('POST', '/api/v2/customers/c1', {
      token: 'other-key-12345',
    });
    expect(upd.status).toBe(200);
    expect(upd.body.token).toBe('cust-key-12345');
    const bad = await t.api('POST', '/api/v2/customers/c3', {
      email: 'c@example.com',
      token: 'a+b/c=d-efgh',
    });
    expect(bad.status).toBe(400);
  });
});
