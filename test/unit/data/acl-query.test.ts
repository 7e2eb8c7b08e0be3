import { describe, expect, it } from 'vitest';
import {
  aclQueryText,
  resolveAclQuery,
  substituteIds,
  UnsafeIdError,
} from '../../../src/shared/acl-query';

describe('ACL named queries', () => {
  const acl = {
    data_read: { q1: "SELECT * FROM data WHERE device_id='DEVICE_ID'" },
    data_write: { w: "INSERT INTO data VALUES (?, 'DEVICE_ID', 'CUSTOMER_ID', ?)" },
  };

  it('finds a query by its own name only', () => {
    expect(aclQueryText(acl, 'data_read', 'q1')).toContain('SELECT');
    expect(aclQueryText(acl, 'data_read', 'w')).toBeNull();
    expect(aclQueryText(acl, 'data_read', 'toString')).toBeNull();
    expect(aclQueryText(acl, 'data_read', '__proto__')).toBeNull();
    expect(aclQueryText({}, 'data_write', 'w')).toBeNull();
  });

  it('replaces every DEVICE_ID and CUSTOMER_ID textually', () => {
    expect(
      substituteIds("a='DEVICE_ID' OR b='DEVICE_ID' AND c='CUSTOMER_ID'", {
        deviceId: 'd1',
        customerId: 'c.9',
      }),
    ).toBe("a='d1' OR b='d1' AND c='c.9'");
    expect(resolveAclQuery(acl, 'data_write', 'w', { deviceId: 'dev-1' })).toBe(
      "INSERT INTO data VALUES (?, 'dev-1', '', ?)",
    );
  });

  it('refuses an id that could leave its quotes', () => {
    expect(() => substituteIds("'DEVICE_ID'", { deviceId: "x' OR 1=1 --" })).toThrow(UnsafeIdError);
    expect(() => substituteIds("'CUSTOMER_ID'", { deviceId: 'ok', customerId: "a'b" })).toThrow(
      UnsafeIdError,
    );
  });
});
