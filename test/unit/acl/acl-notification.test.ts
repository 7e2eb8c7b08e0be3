/**
 * Notifications as a device public key holder sees them (events/acl-notification.ts).
 */
import { describe, expect, it } from 'vitest';
import { aclNotificationText } from '../../../src/main/events/acl-notification';
import type { Published } from '../../../src/main/events/notification-bus';
import { compileAcl } from '../../../src/shared/acl/device-acl';
import type { Notification } from '../../../src/shared/types';

const pub = (n: Notification): Published => ({
  n,
  text: JSON.stringify(n),
  dataJson: JSON.stringify(n.data),
  bytes: Buffer.from(JSON.stringify(n)),
});
const acl = compileAcl({
  shadow_read: '^.state.(reported|delta).on',
  rpc: 'GPIO.*',
});
const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

describe('ACL-filtered notifications', () => {
  it('filters the shadow of a device object and drops token and acl', () => {
    const n = {
      name: 'updated',
      id: 'd',
      data: {
        id: 'd',
        name: 'lamp',
        token: 'secret',
        acl: { public_key: 'k' },
        shadow: { state: { reported: { on: true, temp: 3 }, desired: { on: true } }, version: 2 },
      },
    };
    expect(parse(aclNotificationText(pub(n), acl))).toEqual({
      name: 'updated',
      id: 'd',
      data: { id: 'd', name: 'lamp', shadow: { state: { reported: { on: true } } } },
    });
  });

  it('filters shadow traffic of the device socket; a delta is rooted at .state.delta', () => {
    const update = {
      name: 'rpc.out.Shadow.Update',
      id: 'd',
      data: { state: { reported: { on: 1, x: 2 } } },
    };
    expect(parse(aclNotificationText(pub(update), acl))).toMatchObject({
      data: { state: { reported: { on: 1 } } },
    });
    const delta = {
      name: 'rpc.in.Shadow.Delta',
      id: 'd',
      data: { state: { on: 1, x: 2 }, version: 3 },
    };
    expect(parse(aclNotificationText(pub(delta), acl))).toMatchObject({
      data: { state: { on: 1 } },
    });
  });

  it('passes other calls only when the rpc globs allow the method', () => {
    const allowed = { name: 'rpc.in.GPIO.Toggle', id: 'd', data: { pin: 2 } };
    expect(aclNotificationText(pub(allowed), acl)).toBe(JSON.stringify(allowed));
    expect(aclNotificationText(pub({ name: 'rpc.out.Log', id: 'd', data: 'x' }), acl)).toBeNull();
  });

  it('passes lifecycle notifications as published', () => {
    const online = { name: 'online', id: 'd', data: { online: true } };
    expect(aclNotificationText(pub(online), acl)).toBe(JSON.stringify(online));
  });
});
