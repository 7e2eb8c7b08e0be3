import { describe, expect, it } from 'vitest';
import {
  aclEntries,
  aclWithData,
  countParams,
  entriesProblem,
  substituteIds,
} from '../../../src/renderer/lib/acl-preview';

describe('acl-preview', () => {
  it('lists the named queries and saves them back with every other ACL field kept', () => {
    const acl = {
      rpc: ['Sys.*'],
      shadow_read: ['^.state'],
      data_read: { q1: "SELECT * FROM data WHERE device_id='DEVICE_ID'" },
    };
    expect(aclEntries(acl, 'data_read')).toEqual([
      { name: 'q1', query: "SELECT * FROM data WHERE device_id='DEVICE_ID'" },
    ]);
    expect(aclEntries(acl, 'data_write')).toEqual([]);
    const saved = aclWithData(
      acl,
      [{ name: ' q2 ', query: 'SELECT 2' }],
      [{ name: 'w', query: 'INSERT INTO data VALUES (?,?,?,?)' }],
    );
    expect(saved).toEqual({
      rpc: ['Sys.*'],
      shadow_read: ['^.state'],
      data_read: { q2: 'SELECT 2' },
      data_write: { w: 'INSERT INTO data VALUES (?,?,?,?)' },
    });
  });

  it('refuses unnamed, duplicate or empty queries before saving', () => {
    expect(entriesProblem([{ name: '', query: 'x' }])).toMatch(/name/);
    expect(
      entriesProblem([
        { name: 'a', query: 'x' },
        { name: 'a ', query: 'y' },
      ]),
    ).toMatch(/twice/);
    expect(entriesProblem([{ name: 'a', query: ' ' }])).toMatch(/empty/);
    expect(entriesProblem([{ name: 'a', query: 'x' }])).toBeNull();
  });

  it('replaces DEVICE_ID and CUSTOMER_ID everywhere, as the hub does', () => {
    expect(substituteIds("SELECT 'DEVICE_ID', 'DEVICE_ID' WHERE c='CUSTOMER_ID'", 'd1', 'c9')).toBe(
      "SELECT 'd1', 'd1' WHERE c='c9'",
    );
    expect(substituteIds("c='CUSTOMER_ID'", 'd1')).toBe("c=''");
  });

  it('counts ? outside strings and comments', () => {
    expect(countParams('INSERT INTO data VALUES (?,?,?,?)')).toBe(4);
    expect(countParams('SELECT \'?\', "?" , ? -- ?\n, ? /* ? */')).toBe(2);
    expect(countParams("SELECT 'it''s ?', ?")).toBe(1);
  });
});
